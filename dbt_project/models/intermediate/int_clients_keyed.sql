-- Current client records with their chain-client identity key (raw-extracts.md, Chain
-- clients): phone when it normalises to a valid number, else a valid email, else the record.
-- Each record has exactly one key; there is no transitive merging.
with

clients as (

    select * from {{ ref('stg_crm__clients') }}

),

keyed as (

    select
        *,
        case
            when phone_digits is not null then 'phone:' || phone_digits
            when email_normalized is not null then 'email:' || email_normalized
            else 'client:' || client_id
        end as identity_key
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
