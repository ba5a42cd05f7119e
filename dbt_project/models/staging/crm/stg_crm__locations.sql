with

source as (

    select * from {{ ref('base_crm__locations') }}
    where _is_valid

),

timezones as (

    select timezone_name from {{ ref('iana_timezones') }}

),

renamed as (

    select
        source.location_id,
        source.name as location_name,
        source.location_group,
        source.city,
        -- an invalid or empty zone falls back to the configured default
        coalesce(timezones.timezone_name, {{ default_timezone() }}) as timezone,
        coalesce(source.is_deleted, false) as is_deleted,
        -- locations are the one entity whose offset-less timestamps are UTC
        {{ utc_timestamp('source.updated_at', "'UTC'") }} as updated_at_utc,
        source._source_file,
        source._row_number
    from source
    left join timezones on source.timezone = timezones.timezone_name

),

versions as (

    select
        *,
        {{ version_rank('location_id') }} as version_rank
    from renamed

),

final as (

    select
        location_id,
        location_name,
        location_group,
        city,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
