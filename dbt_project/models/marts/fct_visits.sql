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

ranked as (

    select
        *,
        row_number() over (
            partition by visit_id
            order by
                case when status = 'arrived' then 0 else 1 end,
                starts_at_utc,
                appointment_id
        ) as visit_rank
    from appointments

),

first_appointment as (

    select * from ranked
    where visit_rank = 1

),

aggregated as (

    select
        visit_id,
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
        first_appointment.visit_id,
        first_appointment.location_id,
        first_appointment.client_id,
        first_appointment.chain_client_id,
        first_appointment.starts_at as visited_at,
        first_appointment.starts_at_utc as visited_at_utc,
        cast(first_appointment.starts_at as date) as visit_date,
        aggregated.arrived_appointments > 0 as is_arrived,
        aggregated.has_promotion = 1 as has_promotion,
        aggregated.appointments,
        aggregated.arrived_appointments
    from first_appointment
    inner join aggregated on first_appointment.visit_id = aggregated.visit_id

)

select * from final
