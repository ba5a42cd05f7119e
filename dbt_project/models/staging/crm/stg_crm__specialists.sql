with

source as (

    select * from {{ ref('base_crm__specialists') }}
    where _is_valid

),

locations as (

    select * from {{ ref('stg_crm__locations') }}

),

localized as (

    select
        source.*,
        -- unknown or deleted location: the configured default zone, the row still loads
        coalesce(locations.timezone, {{ default_timezone() }}) as timezone
    from source
    left join locations on source.location_id = locations.location_id

),

renamed as (

    select
        specialist_id,
        location_id,
        name as specialist_name,
        position,
        timezone,
        coalesce(is_deleted, false) as is_deleted,
        {{ utc_timestamp('updated_at', 'timezone') }} as updated_at_utc,
        _source_file,
        _row_number
    from localized

),

versions as (

    select
        *,
        {{ version_rank('specialist_id') }} as version_rank
    from renamed

),

final as (

    select
        specialist_id,
        location_id,
        specialist_name,
        position,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
