{{ config(
    materialized='scoped',
    replace_scope=[['appointment_id', 'parsed:appointments']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__appointments', 'appointment_id', 'parsed:appointments') }}

),

current_versions as (

    {{ current_versions('source', 'appointment_id') }}

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
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
