-- Client records (one location's database each) with the chain client they belong to.
-- Contact data stays in dim_clients.
{{ config(
    materialized='scoped',
    replace_scope=[['client_id', 'parsed:clients']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

client_records as (

    select * from {{ ref('int_clients_keyed') }}
    where true{{ scope_filter([['client_id', 'parsed:clients']]) }}

),

final as (

    select
        client_id,
        chain_client_id,
        location_id,
        client_name,
        card_number,
        gender,
        importance,
        registered_at,
        registered_at_utc,
        balance
    from client_records

)

select * from final
