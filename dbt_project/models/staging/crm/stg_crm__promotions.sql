with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__promotions') }}

),

current_versions as (

    {{ current_versions('source', 'promotion_id') }}

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
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
