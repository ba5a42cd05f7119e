-- What an incremental build must recompute (macros/incremental.sql): one row per (scope,
-- value), derived from the rows parsed in this build. Every scope is a superset of what
-- changed, drawn from all versions in the base models, so a row that moved (a sale corrected
-- onto another deal, a client record whose phone changed) is recomputed at its old place and
-- its new one. Empty in a full build, which recomputes everything.
{%- set keys = {
    'clients': 'client_id',
    'sales': 'sale_id',
    'deals': 'deal_id',
    'appointments': 'appointment_id',
    'activities': 'activity_id',
    'promo_activations': 'activation_id',
    'sms_messages': 'message_id',
} %}
{%- set fact_entities = ['sales', 'deals', 'appointments', 'activities', 'promo_activations', 'sms_messages'] %}
{%- set deal_key = "coalesce(deal_id, 'sale:' || sale_id)" %}
with

{% for entity in keys %}
{{ entity }} as (

    select * from {{ ref('base_crm__' ~ entity) }}
    where _is_valid

),

{% endfor %}
{%- for entity, key in keys.items() if entity != 'sms_messages' %}
changed_{{ entity }} as (

    select distinct {{ key }} as scope_value from {{ entity }}
    where _dbt_invocation_id = '{{ invocation_id }}'

),

{% endfor -%}
-- an SMS takes its time zone from its client's current record
changed_sms_messages as (

    select message_id as scope_value from sms_messages
    where _dbt_invocation_id = '{{ invocation_id }}'
    union
    select message_id from sms_messages
    where client_id in (select scope_value from changed_clients)

),

changed_visit_ids as (

    select visit_id as scope_value from appointments
    where
        appointment_id in (select scope_value from changed_appointments)
        or client_id in (select scope_value from changed_clients)

),

-- a client's mapping changes with its record; its facts' changes reach its chain client
affected_client_ids as (

    select scope_value from changed_clients
    {%- for entity in fact_entities %}
    union
    select client_id from {{ entity }}
    where {{ keys[entity] }} in (select scope_value from changed_{{ entity }})
    {%- endfor %}
    union
    -- a visit's chain client is its first appointment's: any appointment of a changed visit
    select client_id from appointments
    where visit_id in (select scope_value from changed_visit_ids)

),

changed_deal_keys as (

    select scope_value from changed_deals
    union
    select deal_id from deals
    where client_id in (select scope_value from changed_clients)
    union
    select {{ deal_key }} from sales
    where
        sale_id in (select scope_value from changed_sales)
        or client_id in (select scope_value from changed_clients)

),

-- every chain client an affected client_id has ever belonged to or now belongs to
changed_chain_client_ids as (

    select {{ md5_hex("'client:' || scope_value") }} as scope_value
    from affected_client_ids
    union
    select
        {{ md5_hex(chain_identity_key(normalize_phone('phone'), normalize_email('email'), 'client_id')) }}
    from clients
    where client_id in (select scope_value from affected_client_ids)

),

scopes as (

    {% for entity in keys %}
    select '{{ entity }}' as scope, scope_value from changed_{{ entity }}
    union all
    {% endfor -%}
    select 'client_ids' as scope, scope_value from affected_client_ids
    union all
    select 'visit_ids' as scope, scope_value from changed_visit_ids
    union all
    select 'deal_keys' as scope, scope_value from changed_deal_keys
    union all
    select 'chain_client_ids' as scope, scope_value from changed_chain_client_ids

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
