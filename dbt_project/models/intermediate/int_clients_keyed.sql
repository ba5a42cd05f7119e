-- Current client records with their chain-client identity key (raw-extracts.md, Chain
-- clients): phone when it normalises to a valid number, else a valid email, else the record.
-- Each record has exactly one key; there is no transitive merging.
{{ config(
    materialized='scoped',
    replace_scope=[['client_id', 'parsed:clients']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

clients as (

    select * from {{ ref('stg_crm__clients') }}
    where true{{ scope_filter([['client_id', 'parsed:clients']]) }}

),

keyed as (

    select
        *,
        {{ chain_identity_key('phone_digits', 'email_normalized', 'client_id') }} as identity_key
    from clients

),

final as (

    select
        {{ md5_hex('identity_key') }} as chain_client_id,
        identity_key,
        client_id,
        location_id,
        client_name,
        phone_digits,
        email_normalized,
        card_number,
        gender,
        importance,
        registered_at,
        registered_at_utc,
        balance,
        updated_at_utc
    from keyed

)

select * from final
