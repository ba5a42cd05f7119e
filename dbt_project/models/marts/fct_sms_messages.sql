{{ config(
    materialized='scoped',
    replace_scope=[['message_id', 'sms_messages']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

messages as (

    select * from {{ ref('stg_crm__sms_messages') }}
    where true{{ scope_filter([['message_id', 'sms_messages']]) }}

),

client_records as (

    select
        client_id,
        chain_client_id
    from {{ ref('int_clients_keyed') }}

),

final as (

    select
        messages.message_id,
        messages.client_id,
        {{ fact_chain_client_id('messages.client_id') }} as chain_client_id,
        messages.campaign,
        messages.status,
        messages.sent_at,
        messages.sent_at_utc
    from messages
    left join client_records on messages.client_id = client_records.client_id

)

select * from final
