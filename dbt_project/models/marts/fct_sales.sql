-- Realizations: current, not deleted sales with status posted (reports.md). A realization
-- without a deal is a deal of its own (deal_key).
{{ config(
    materialized='scoped',
    replace_scope=[['sale_id', 'sale_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

sales as (

    select * from {{ ref('stg_crm__sales') }}
    where status = 'posted'{{ scope_filter([['sale_id', 'sale_ids']]) }}

),

client_records as (

    select
        client_id,
        chain_client_id
    from {{ ref('int_clients_keyed') }}

),

final as (

    select
        sales.sale_id,
        sales.location_id,
        sales.client_id,
        {{ fact_chain_client_id('sales.client_id') }} as chain_client_id,
        coalesce(sales.deal_id, 'sale:' || sales.sale_id) as deal_key,
        sales.deal_id,
        sales.visit_id,
        sales.specialist_id,
        sales.kind,
        sales.amount,
        sales.posted_at,
        sales.posted_at_utc,
        cast(sales.posted_at as date) as posted_date,
        sales.created_at,
        sales.created_at_utc
    from sales
    left join client_records on sales.client_id = client_records.client_id

)

select * from final
