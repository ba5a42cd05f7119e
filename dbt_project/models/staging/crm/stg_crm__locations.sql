with

source as {{ inlined_cte() }} (

    select * from {{ ref('base_crm__locations') }}
    where _is_valid

),

timezones as (

    select timezone_name from {{ ref('iana_timezones') }}

),

current_versions as (

    -- locations are the one entity whose offset-less timestamps are UTC
    {{ current_versions('source', 'location_id', tz="'UTC'") }}

),

renamed as (

    select
        current_versions.location_id,
        current_versions.name as location_name,
        current_versions.location_group,
        current_versions.city,
        -- an invalid or empty zone falls back to the configured default
        coalesce(timezones.timezone_name, {{ default_timezone() }}) as timezone,
        current_versions.updated_at_utc,
        current_versions._source_file,
        current_versions._row_number
    from current_versions
    left join timezones on current_versions.timezone = timezones.timezone_name

)

select * from renamed
