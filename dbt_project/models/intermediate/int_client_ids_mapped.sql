-- Every client_id seen anywhere (client records and facts) mapped to its chain client. A fact
-- whose client_id has no current client record keeps the key client:<client_id>.
{{ config(
    materialized='incremental',
    incremental_strategy='scoped_replace',
    replace_scope=[['client_id', 'client_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

client_records as (

    select * from {{ ref('int_clients_keyed') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}

),

fact_client_ids as (

    select client_id from {{ ref('stg_crm__appointments') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}
    union
    select client_id from {{ ref('stg_crm__deals') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}
    union
    select client_id from {{ ref('stg_crm__sales') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}
    union
    select client_id from {{ ref('stg_crm__promo_activations') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}
    union
    select client_id from {{ ref('stg_crm__activities') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}
    union
    select client_id from {{ ref('stg_crm__sms_messages') }}
    where true{{ scope_filter([['client_id', 'client_ids']]) }}

),

orphans as (

    select fact_client_ids.client_id
    from fact_client_ids
    left join client_records on fact_client_ids.client_id = client_records.client_id
    where
        fact_client_ids.client_id is not null
        and client_records.client_id is null

),

final as (

    select
        client_id,
        chain_client_id,
        identity_key,
        true as has_client_record
    from client_records

    union all

    select
        client_id,
        {{ md5_hex("'client:' || client_id") }} as chain_client_id,
        'client:' || client_id as identity_key,
        false as has_client_record
    from orphans

)

select * from final
