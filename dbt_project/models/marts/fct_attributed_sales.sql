-- Every realization with a client paired with each activity of the same chain client that
-- occurred at most max_attribution_window_days before the posting (absolute time), at any
-- store. R5 narrows the window with elapsed_microseconds.
{{ config(
    materialized='scoped',
    replace_scope=[['sale_id', 'sale_ids'], ['activity_id', 'attribution_activity_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
-- A pair changes only when its sale or its activity does (a changed client's sales and
-- activities are in those scopes, since its chain client may have moved): an incremental build
-- recomputes the pairs of those sales and activities, within their chain clients.
with

realizations as (

    select * from {{ ref('fct_sales') }}
    where chain_client_id is not null

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

client_records as (

    select
        client_id,
        chain_client_id
    from {{ ref('int_clients_keyed') }}

),

specialists as (

    select * from {{ ref('stg_crm__specialists') }}

),

{% if is_incremental() -%}
-- the chain clients of the changed sales and activities: only there can a pair change
-- (read from the models, not the CTEs above: DuckDB materializes a CTE read twice, which
-- would copy every realization)
changed_chain_clients as {{ materialized_cte() }} (

    select changed_sales.chain_client_id
    from {{ ref('fct_sales') }} as changed_sales
    where {{ in_scope('changed_sales.sale_id', 'sale_ids') }}
    union
    select {{ fact_chain_client_id('changed_activities.client_id', 'activity_records') }}
    from {{ ref('stg_crm__activities') }} as changed_activities
    left join {{ ref('int_clients_keyed') }} as activity_records
        on changed_activities.client_id = activity_records.client_id
    where {{ in_scope('changed_activities.activity_id', 'attribution_activity_ids') }}

),

{% endif -%}

sales as (

    select * from realizations
    {%- if is_incremental() %}
    where chain_client_id in (select changed_chain_clients.chain_client_id from changed_chain_clients)
    {%- endif %}

),

activity_clients as (

    select
        activities.*,
        {{ fact_chain_client_id('activities.client_id') }} as chain_client_id
    from activities
    left join client_records on activities.client_id = client_records.client_id

),

client_activities as (

    select
        activity_clients.*,
        specialists.specialist_name as associate_name
    from activity_clients
    left join specialists on activity_clients.associate_id = specialists.specialist_id
    {%- if is_incremental() %}
    where
        activity_clients.chain_client_id
        in (select changed_chain_clients.chain_client_id from changed_chain_clients)
    {%- endif %}

),

pairs as (

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
    {%- if is_incremental() %}
    where
        {{ in_scope('sales.sale_id', 'sale_ids') }}
        or {{ in_scope('client_activities.activity_id', 'attribution_activity_ids') }}
    {%- endif %}

),

final as (

    select * from pairs

)

select * from final
