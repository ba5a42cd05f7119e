with

source as (

    {{ valid_rows_with_location_timezone('base_crm__appointments') }}

),

renamed as (

    select
        appointment_id,
        visit_id,
        location_id,
        client_id,
        specialist_id,
        promotion_id,
        deal_id,
        {{ local_timestamp('starts_at', 'timezone') }} as starts_at,
        {{ utc_timestamp('starts_at', 'timezone') }} as starts_at_utc,
        {{ local_timestamp('created_at', 'timezone') }} as created_at,
        {{ utc_timestamp('created_at', 'timezone') }} as created_at_utc,
        status,
        coalesce(is_online, false) as is_online,
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
        {{ version_rank('appointment_id') }} as version_rank
    from renamed

),

final as (

    select
        appointment_id,
        visit_id,
        location_id,
        client_id,
        specialist_id,
        promotion_id,
        deal_id,
        starts_at,
        starts_at_utc,
        created_at,
        created_at_utc,
        status,
        is_online,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
