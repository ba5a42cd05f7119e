-- Every realization with a client paired with each activity of the same chain client that
-- occurred at most max_attribution_window_days before the posting (absolute time), at any
-- store. R5 narrows the window with elapsed_microseconds.
{{ config(
    materialized='incremental',
    incremental_strategy='scoped_replace',
    replace_scope=[['chain_client_id', 'attribution_chain_client_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

sales as (

    select * from {{ ref('fct_sales') }}
    where chain_client_id is not null{{ scope_filter([['chain_client_id', 'attribution_chain_client_ids']]) }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

client_ids as (

    select * from {{ ref('int_client_ids_mapped') }}

),

specialists as (

    select * from {{ ref('stg_crm__specialists') }}

),

client_activities as (

    select
        activities.*,
        client_ids.chain_client_id,
        specialists.specialist_name as associate_name
    from activities
    inner join client_ids on activities.client_id = client_ids.client_id
    left join specialists on activities.associate_id = specialists.specialist_id
    where true{{ scope_filter([['client_ids.chain_client_id', 'attribution_chain_client_ids']]) }}

),

final as (

    select
        sales.sale_id,
        sales.chain_client_id,
        sales.client_id,
        sales.location_id,
        sales.posted_at,
        sales.posted_at_utc,
        sales.amount,
        client_activities.activity_id,
        client_activities.client_id as activity_client_id,
        client_activities.location_id as activity_location_id,
        client_activities.associate_id,
        client_activities.associate_name,
        client_activities.activity_type,
        client_activities.occurred_at,
        client_activities.occurred_at_utc,
        {{ dbt.datediff('client_activities.occurred_at_utc', 'sales.posted_at_utc', 'microsecond') }}
            as elapsed_microseconds
    from sales
    inner join client_activities
        on
            sales.chain_client_id = client_activities.chain_client_id
            and sales.posted_at_utc >= client_activities.occurred_at_utc
            and client_activities.occurred_at_utc >= {{ dbt.dateadd(
            'day', -var('max_attribution_window_days'), 'sales.posted_at_utc') }}

)

select * from final
