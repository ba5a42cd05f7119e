{{ config(
    materialized='scoped',
    replace_scope=[['client_id', 'parsed:clients']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__clients', 'client_id', 'parsed:clients') }}

),

current_versions as (

    {{ current_versions('source', 'client_id') }}

),

renamed as (

    select
        client_id,
        location_id,
        name as client_name,
        phone,
        {{ normalize_phone('phone') }} as phone_digits,
        email,
        {{ normalize_email('email') }} as email_normalized,
        card_number,
        {{ normalize_gender('gender') }} as gender,
        {{ normalize_importance('importance') }} as importance,
        {{ local_timestamp('registered_at', 'timezone') }} as registered_at,
        {{ utc_timestamp('registered_at', 'timezone') }} as registered_at_utc,
        coalesce(balance, 0) as balance,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
