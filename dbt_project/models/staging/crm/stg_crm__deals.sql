{{ config(
    materialized='scoped',
    replace_scope=[['deal_id', 'parsed:deals']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__deals', 'deal_id', 'parsed:deals') }}

),

current_versions as (

    {{ current_versions('source', 'deal_id') }}

),

renamed as (

    select
        deal_id,
        location_id,
        client_id,
        {{ local_timestamp('opened_at', 'timezone') }} as opened_at,
        {{ utc_timestamp('opened_at', 'timezone') }} as opened_at_utc,
        channel,
        status,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
