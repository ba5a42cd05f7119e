-- The keys an incremental build must recompute (see int_scopes_changed, which adds the chain
-- clients): one row per (scope, value), derived from the rows parsed in this build. Every scope is a superset of what
-- changed, drawn from all versions in the base models, so a row that moved (a sale corrected
-- onto another deal, a client record whose phone changed) is recomputed at its old place and
-- its new one. Empty in a full build, which recomputes everything. Each large base model is
-- scanned once (appointments twice), for every scope it feeds.
{%- set keys = {
    'clients': 'client_id',
    'sales': 'sale_id',
    'deals': 'deal_id',
    'appointments': 'appointment_id',
    'activities': 'activity_id',
    'promo_activations': 'activation_id',
    'sms_messages': 'message_id',
} %}
{%- set new_rows = "_is_valid and _dbt_invocation_id = '" ~ invocation_id ~ "'" %}
with

{% for entity, key in keys.items() %}
new_{{ entity }} as (

    select distinct {{ key }} as scope_value
    from {{ ref('base_crm__' ~ entity) }}
    where {{ new_rows }}

),

{% endfor -%}
-- all versions of changed sales, and every sale of a changed client (its chain client, and
-- so its deal's, may have changed)
sales_touched as {{ materialized_cte() }} (

    select
        sale_id,
        client_id,
        coalesce(deal_id, 'sale:' || sale_id) as deal_key
    from {{ ref('base_crm__sales') }}
    where
        _is_valid
        and (
            sale_id in (select scope_value from new_sales)
            or client_id in (select scope_value from new_clients)
        )

),

deals_touched as {{ materialized_cte() }} (

    select
        deal_id,
        client_id
    from {{ ref('base_crm__deals') }}
    where
        _is_valid
        and (
            deal_id in (select scope_value from new_deals)
            or client_id in (select scope_value from new_clients)
        )

),

-- an SMS takes its time zone from its client's current record
sms_touched as {{ materialized_cte() }} (

    select
        message_id,
        client_id
    from {{ ref('base_crm__sms_messages') }}
    where
        _is_valid
        and (
            message_id in (select scope_value from new_sms_messages)
            or client_id in (select scope_value from new_clients)
        )

),

appointments_touched as {{ materialized_cte() }} (

    select
        appointment_id,
        visit_id
    from {{ ref('base_crm__appointments') }}
    where
        _is_valid
        and (
            appointment_id in (select scope_value from new_appointments)
            or client_id in (select scope_value from new_clients)
        )

),

changed_visit_ids as {{ materialized_cte() }} (

    select distinct visit_id as scope_value from appointments_touched

),

-- a visit's chain client is its first appointment's: every appointment of a changed visit
visit_clients as (

    select client_id
    from {{ ref('base_crm__appointments') }}
    where
        _is_valid
        and visit_id in (select scope_value from changed_visit_ids)

),

activity_clients as (

    select client_id
    from {{ ref('base_crm__activities') }}
    where
        _is_valid
        and activity_id in (select scope_value from new_activities)

),

activation_clients as (

    select client_id
    from {{ ref('base_crm__promo_activations') }}
    where
        _is_valid
        and activation_id in (select scope_value from new_promo_activations)

),

-- client_ids whose chain clients a mart must recompute. A client's mapping changes with its
-- record; its facts' changes reach its chain client. Attribution (sales x activities) and
-- activations (numbering, first realization) depend on fewer facts than dim_clients.
attribution_client_ids as (

    select scope_value from new_clients
    union
    select client_id from sales_touched
    union
    select client_id from activity_clients

),

activation_client_ids as (

    select scope_value from new_clients
    union
    select client_id from sales_touched
    union
    select client_id from activation_clients

),

affected_client_ids as (

    select scope_value from new_clients
    union
    select client_id from sales_touched
    union
    select client_id from deals_touched
    union
    select client_id from sms_touched
    union
    select client_id from visit_clients
    union
    select client_id from activity_clients
    union
    select client_id from activation_clients

),

changed_deal_keys as (

    select deal_key as scope_value from sales_touched
    union
    select deal_id from deals_touched

),

scopes as (

    {% for entity in keys if entity != 'sms_messages' %}
    select '{{ entity }}' as scope, scope_value from new_{{ entity }}
    union all
    {% endfor -%}
    -- fct_sales, fct_appointments and fct_sms_messages: changed rows and a changed client's
    select distinct 'sms_messages' as scope, message_id as scope_value from sms_touched
    union all
    select distinct 'sale_ids' as scope, sale_id from sales_touched
    union all
    select distinct 'appointment_ids' as scope, appointment_id from appointments_touched
    union all
    -- each *client_ids scope gets its *chain_client_ids in int_scopes_changed
    select 'client_ids' as scope, scope_value from affected_client_ids
    union all
    select 'attribution_client_ids' as scope, scope_value from attribution_client_ids
    union all
    select 'activation_client_ids' as scope, scope_value from activation_client_ids
    union all
    select 'visit_ids' as scope, scope_value from changed_visit_ids
    union all
    select 'deal_keys' as scope, scope_value from changed_deal_keys

),

final as (

    select
        scope,
        cast(scope_value as {{ dbt.type_string() }}) as scope_value
    from scopes
    where
        scope_value is not null
        {%- if flags.FULL_REFRESH %}
        and false
        {%- endif %}

)

select * from final
