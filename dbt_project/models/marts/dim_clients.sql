-- The chain client database: one row per chain client (raw-extracts.md, Chain clients).
{{ config(
    materialized='scoped',
    replace_scope=[['chain_client_id', 'chain_client_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

client_records as (

    select * from {{ ref('int_clients_keyed') }}
    where true{{ scope_filter([['chain_client_id', 'chain_client_ids']]) }}

),

sales as (

    select * from {{ ref('fct_sales') }}
    where true{{ scope_filter([['chain_client_id', 'chain_client_ids']]) }}

),

visits as (

    select * from {{ ref('fct_visits') }}
    where true{{ scope_filter([['chain_client_id', 'chain_client_ids']]) }}

),

appointments as (

    select * from {{ ref('fct_appointments') }}
    where true{{ scope_filter([['chain_client_id', 'chain_client_ids']]) }}

),

sms_messages as (

    select * from {{ ref('fct_sms_messages') }}
    where true{{ scope_filter([['chain_client_id', 'chain_client_ids']]) }}

),

card_numbers as (

    select distinct
        chain_client_id,
        card_number
    from client_records
    where card_number is not null

),

card_lists as (

    select
        chain_client_id,
        {{ dbt.listagg('card_number', "','", 'order by card_number') }} as card_numbers
    from card_numbers
    group by chain_client_id

),

record_locations as (

    select distinct
        chain_client_id,
        location_id
    from client_records

),

location_lists as (

    select
        chain_client_id,
        {{ dbt.listagg('location_id', "','", 'order by location_id') }} as location_ids
    from record_locations
    group by chain_client_id

),

spending as (

    select
        chain_client_id,
        sum(amount) as total_spent
    from sales
    group by chain_client_id

),

visiting as (

    select
        chain_client_id,
        count(*) as visits,
        count(distinct location_id) as locations_visited,
        -- the latest visit in absolute time (tie: greatest visit_id), shown in its location's
        -- local time
        {{ value_at('visited_at', ['visited_at_utc', 'visit_id'], 'greatest') }} as last_visit_at
    from visits
    where is_arrived and chain_client_id is not null
    group by chain_client_id

),

online_bookers as (

    select distinct chain_client_id
    from appointments
    where is_online

),

sms_receivers as (

    select distinct chain_client_id
    from sms_messages
    where status <> 'failed'

),

attributes as (

    select
        chain_client_id,
        max(identity_key) as identity_key,
        -- name: the record updated last (tie: greatest client_id)
        {{ value_at('client_name', ['updated_at_utc', 'client_id'], 'greatest') }} as client_name,
        -- gender: as name, skipping unknown records when a known one exists
        {{ value_at('gender', [
            "case when gender = 'unknown' then 0 else 1 end", 'updated_at_utc', 'client_id',
        ], 'greatest') }} as gender,
        -- registered_at: the earliest registration (tie: least client_id), in that record's
        -- local time
        {{ value_at('registered_at', ['registered_at_utc', 'client_id'], 'least') }}
            as registered_at,
        min(registered_at_utc) as registered_at_utc,
        max(
            case importance
                when 'gold' then 3 when 'silver' then 2 when 'bronze' then 1 else 0
            end
        ) as importance_level,
        sum(balance) as balance,
        -- email: the latest valid one
        {{ value_at('email_normalized', [
            'case when email_normalized is null then 0 else 1 end', 'updated_at_utc', 'client_id',
        ], 'greatest') }} as email,
        count(*) as client_records
    from client_records
    group by chain_client_id

),

final as (

    select
        attributes.chain_client_id,
        attributes.identity_key,
        attributes.client_name,
        case
            when attributes.identity_key like 'phone:%'
                then '+' || substr(attributes.identity_key, 7)
        end as phone,
        attributes.email,
        card_lists.card_numbers,
        attributes.gender,
        case attributes.importance_level
            when 3 then 'gold' when 2 then 'silver' when 1 then 'bronze' else 'none'
        end as importance,
        attributes.registered_at,
        attributes.registered_at_utc,
        cast(attributes.balance as {{ money_type() }}) as balance,
        cast(coalesce(spending.total_spent, 0) as {{ money_type() }}) as total_spent,
        coalesce(visiting.visits, 0) as visits,
        visiting.last_visit_at,
        coalesce(visiting.locations_visited, 0) as locations_visited,
        location_lists.location_ids,
        online_bookers.chain_client_id is not null as has_online_booking,
        sms_receivers.chain_client_id is not null as received_sms,
        attributes.client_records
    from attributes
    left join card_lists on attributes.chain_client_id = card_lists.chain_client_id
    left join location_lists on attributes.chain_client_id = location_lists.chain_client_id
    left join spending on attributes.chain_client_id = spending.chain_client_id
    left join visiting on attributes.chain_client_id = visiting.chain_client_id
    left join online_bookers on attributes.chain_client_id = online_bookers.chain_client_id
    left join sms_receivers on attributes.chain_client_id = sms_receivers.chain_client_id

)

select * from final
