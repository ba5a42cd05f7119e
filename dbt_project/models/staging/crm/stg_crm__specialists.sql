with

source as (

    {{ valid_rows_with_location_timezone('base_crm__specialists') }}

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
    from source

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
