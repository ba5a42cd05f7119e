{{ config(
    materialized='scoped',
    replace_scope=[['sale_id', 'parsed:sales']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__sales', 'sale_id', 'parsed:sales') }}

),

current_versions as (

    {{ current_versions('source', 'sale_id') }}

),

renamed as (

    select
        sale_id,
        location_id,
        client_id,
        deal_id,
        visit_id,
        specialist_id,
        kind,
        amount,
        status,
        {{ local_timestamp('posted_at', 'timezone') }} as posted_at,
        {{ utc_timestamp('posted_at', 'timezone') }} as posted_at_utc,
        {{ local_timestamp('created_at', 'timezone') }} as created_at,
        {{ utc_timestamp('created_at', 'timezone') }} as created_at_utc,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
