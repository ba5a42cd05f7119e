with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__specialists') }}

),

current_versions as (

    {{ current_versions('source', 'specialist_id') }}

),

renamed as (

    select
        specialist_id,
        location_id,
        name as specialist_name,
        position,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
