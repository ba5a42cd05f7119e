with

source as (

    {{ valid_rows_with_location_timezone('base_crm__promotions') }}

),

renamed as (

    select
        promotion_id,
        location_id,
        name as promotion_name,
        lower(promotion_type) as promotion_type,
        starts_on,
        ends_on,
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
        {{ version_rank('promotion_id') }} as version_rank
    from renamed

),

final as (

    select
        promotion_id,
        location_id,
        promotion_name,
        promotion_type,
        starts_on,
        ends_on,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
