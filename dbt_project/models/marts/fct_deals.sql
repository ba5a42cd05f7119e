-- One row per deal: every deal record plus every deal key that realizations carry (a deal id
-- without a record, or a realization without a deal), with its realizations summed.
{{ config(
    materialized='scoped',
    replace_scope=[['deal_key', 'deal_keys']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

deals as (

    select * from {{ ref('stg_crm__deals') }}
    where true{{ scope_filter([['deal_id', 'deal_keys']]) }}

),

sales as (

    select * from {{ ref('fct_sales') }}
    where true{{ scope_filter([['deal_key', 'deal_keys']]) }}

),

client_records as (

    select
        client_id,
        chain_client_id
    from {{ ref('int_clients_keyed') }}

),

-- A realization without a deal id is a deal of its own: it needs no grouping and no deal
-- record, unless a record is named like its key (sale:<sale_id>), which only a hand-made id
-- would be. Grouping only the others keeps the hash table to the realizations of real deals.
deal_ids_like_sale_keys as (

    select deals.deal_id
    from deals
    where deals.deal_id like 'sale:%'

),

own_deal_sales as (

    select * from sales
    where
        deal_id is null
        and deal_key not in (select deal_ids_like_sale_keys.deal_id from deal_ids_like_sale_keys)

),

deal_sales as (

    select * from sales
    where
        deal_id is not null
        or deal_key in (select deal_ids_like_sale_keys.deal_id from deal_ids_like_sale_keys)

),

realizations as (

    select
        deal_key,
        max(deal_id) as deal_id,
        max(chain_client_id) as sales_chain_client_id,
        max(location_id) as sales_location_id,
        count(*) as realizations,
        sum(amount) as sales_total,
        min(posted_at_utc) as first_posted_at_utc,
        max(posted_at_utc) as last_posted_at_utc
    from deal_sales
    group by deal_key

),

final as (

    -- a full outer join: every deal record and every realized deal id, matched once
    select
        coalesce(deals.deal_id, realizations.deal_key) as deal_key,
        coalesce(deals.deal_id, realizations.deal_id) as deal_id,
        deals.deal_id is not null as has_deal_record,
        coalesce(
            {{ fact_chain_client_id('deals.client_id', 'deal_clients') }},
            realizations.sales_chain_client_id
        ) as chain_client_id,
        coalesce(deals.location_id, realizations.sales_location_id) as location_id,
        deals.channel,
        deals.status,
        deals.opened_at,
        deals.opened_at_utc,
        coalesce(realizations.realizations, 0) as realizations,
        cast(coalesce(realizations.sales_total, 0) as {{ money_type() }}) as sales_total,
        realizations.first_posted_at_utc,
        realizations.last_posted_at_utc
    from deals
    full outer join realizations on deals.deal_id = realizations.deal_key
    left join client_records as deal_clients on deals.client_id = deal_clients.client_id

    union all

    select
        deal_key,
        cast(null as {{ dbt.type_string() }}) as deal_id,
        false as has_deal_record,
        chain_client_id,
        location_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as status,
        cast(null as {{ dbt.type_timestamp() }}) as opened_at,
        cast(null as {{ dbt.type_timestamp() }}) as opened_at_utc,
        cast(1 as {{ dbt.type_bigint() }}) as realizations,
        cast(coalesce(amount, 0) as {{ money_type() }}) as sales_total,
        posted_at_utc as first_posted_at_utc,
        posted_at_utc as last_posted_at_utc
    from own_deal_sales

)

select * from final
