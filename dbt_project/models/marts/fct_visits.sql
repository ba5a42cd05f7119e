-- One row per visit (appointments sharing visit_id). A visit happened when one of its
-- appointments arrived; its time is the earliest arrived starts_at, its client that of the
-- earliest arrived appointment (reports.md, common rules).
{{ config(
    materialized='scoped',
    replace_scope=[['visit_id', 'visit_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

appointments as (

    select * from {{ ref('fct_appointments') }}
    where true{{ scope_filter([['visit_id', 'visit_ids']]) }}

),

aggregated as (

    select
        visit_id,
        -- the visit's first appointment: the earliest arrived one, else the earliest (tie:
        -- least appointment_id)
        {{ values_at(
            'first_appointment',
            ['location_id', 'client_id', 'chain_client_id', 'starts_at', 'starts_at_utc'],
            ["case when status = 'arrived' then 0 else 1 end", 'starts_at_utc', 'appointment_id'],
            'least',
        ) }},
        count(*) as appointments,
        cast(sum(case when status = 'arrived' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as arrived_appointments,
        max(case when status = 'arrived' and promotion_type is not null then 1 else 0 end)
            as has_promotion
    from appointments
    group by visit_id

),

final as (

    select
        aggregated.visit_id,
        {{ value_field('aggregated.first_appointment', 'location_id') }} as location_id,
        {{ value_field('aggregated.first_appointment', 'client_id') }} as client_id,
        {{ value_field('aggregated.first_appointment', 'chain_client_id') }} as chain_client_id,
        {{ value_field('aggregated.first_appointment', 'starts_at') }} as visited_at,
        {{ value_field('aggregated.first_appointment', 'starts_at_utc') }} as visited_at_utc,
        cast({{ value_field('aggregated.first_appointment', 'starts_at') }} as date) as visit_date,
        aggregated.arrived_appointments > 0 as is_arrived,
        aggregated.has_promotion = 1 as has_promotion,
        aggregated.appointments,
        aggregated.arrived_appointments
    from aggregated

)

select * from final
