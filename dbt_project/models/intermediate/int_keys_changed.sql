-- The keys an incremental build must recompute (int_scopes_changed adds the chain clients):
-- one row per (scope, value), derived from the rows parsed in this build. Every scope is a
-- superset of what changed, drawn from all versions in the base models, so a row that moved
-- (a sale corrected onto another deal, a client record whose phone changed) is recomputed at
-- its old place and its new one. Empty in a full build, which recomputes everything.
-- The rows of changed keys and those of changed clients are two selects, not one with an `or`
-- of two key lists: DuckDB then semi-joins each list (and skips the row groups outside a list's
-- range) instead of probing both for every row (half the time at 10M realizations). A row in
-- both comes twice; every use below is distinct.
with

keys_parsed as (

    select * from {{ ref('int_keys_parsed') }}

),

new_clients as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'clients'

),

new_sales as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'sales'

),

new_deals as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'deals'

),

new_appointments as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'appointments'

),

new_activities as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'activities'

),

new_promo_activations as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'promo_activations'

),

new_sms_messages as (

    select key_value as scope_value
    from keys_parsed
    where entity = 'sms_messages'

),

-- all versions of changed sales, and every sale of a changed client (its chain client, and
-- so its deal's, may have changed)
sales_touched as {{ materialized_cte() }} (

    select
        sale_id,
        client_id,
        coalesce(deal_id, 'sale:' || sale_id) as deal_key
    from {{ ref('base_crm__sales') }}
    where _is_valid and sale_id in (select new_sales.scope_value from new_sales)
    union all
    select
        sale_id,
        client_id,
        coalesce(deal_id, 'sale:' || sale_id) as deal_key
    from {{ ref('base_crm__sales') }}
    where _is_valid and client_id in (select new_clients.scope_value from new_clients)

),

deals_touched as {{ materialized_cte() }} (

    select
        deal_id,
        client_id
    from {{ ref('base_crm__deals') }}
    where _is_valid and deal_id in (select new_deals.scope_value from new_deals)
    union all
    select
        deal_id,
        client_id
    from {{ ref('base_crm__deals') }}
    where _is_valid and client_id in (select new_clients.scope_value from new_clients)

),

-- an SMS takes its time zone from its client's current record
sms_touched as {{ materialized_cte() }} (

    select
        message_id,
        client_id
    from {{ ref('base_crm__sms_messages') }}
    where _is_valid and message_id in (select new_sms_messages.scope_value from new_sms_messages)
    union all
    select
        message_id,
        client_id
    from {{ ref('base_crm__sms_messages') }}
    where _is_valid and client_id in (select new_clients.scope_value from new_clients)

),

appointments_touched as {{ materialized_cte() }} (

    select
        appointment_id,
        visit_id
    from {{ ref('base_crm__appointments') }}
    where _is_valid and appointment_id in (select new_appointments.scope_value from new_appointments)
    union all
    select
        appointment_id,
        visit_id
    from {{ ref('base_crm__appointments') }}
    where _is_valid and client_id in (select new_clients.scope_value from new_clients)

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
        and visit_id in (select changed_visit_ids.scope_value from changed_visit_ids)

),

-- all versions of changed activities, and every activity of a changed client (its chain
-- client may have changed)
activities_touched as {{ materialized_cte() }} (

    select
        activity_id,
        client_id
    from {{ ref('base_crm__activities') }}
    where _is_valid and activity_id in (select new_activities.scope_value from new_activities)
    union all
    select
        activity_id,
        client_id
    from {{ ref('base_crm__activities') }}
    where _is_valid and client_id in (select new_clients.scope_value from new_clients)

),

activity_clients as (

    select client_id from activities_touched

),

activation_clients as (

    select client_id
    from {{ ref('base_crm__promo_activations') }}
    where
        _is_valid
        and activation_id in (select new_promo_activations.scope_value from new_promo_activations)

),

-- client_ids whose chain clients a mart must recompute. A client's mapping changes with its
-- record; its facts' changes reach its chain client. Activations (numbering, first
-- realization) depend on fewer facts than dim_clients.
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

    -- (the keys parsed in this build are the `parsed:<entity>` scopes, read from the base
    -- models themselves); sale_ids, appointment_ids, attribution_activity_ids and
    -- sms_messages add a changed client's rows (fct_*); each *client_ids scope gets its
    -- *chain_client_ids in int_scopes_changed
    select distinct
        'sms_messages' as scope,
        message_id as scope_value
    from sms_touched
    union all
    select distinct
        'sale_ids' as scope,
        sale_id as scope_value
    from sales_touched
    union all
    select distinct
        'appointment_ids' as scope,
        appointment_id as scope_value
    from appointments_touched
    union all
    select
        'client_ids' as scope,
        scope_value
    from affected_client_ids
    union all
    select distinct
        'attribution_activity_ids' as scope,
        activity_id as scope_value
    from activities_touched
    union all
    select
        'activation_client_ids' as scope,
        scope_value
    from activation_client_ids
    union all
    select
        'visit_ids' as scope,
        scope_value
    from changed_visit_ids
    union all
    select
        'deal_keys' as scope,
        scope_value
    from changed_deal_keys

),

final as (

    select
        scope,
        cast(scope_value as {{ dbt.type_string() }}) as scope_value
    from scopes
    where
        scope_value is not null
        and {{ 'false' if flags.FULL_REFRESH else 'true' }}

)

select * from final
