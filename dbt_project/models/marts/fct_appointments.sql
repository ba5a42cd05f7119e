-- One row per current appointment, with its chain client and the promotion's type.
{{ config(
    materialized='scoped',
    replace_scope=[['appointment_id', 'appointment_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

appointments as (

    select * from {{ ref('stg_crm__appointments') }}
    where true{{ scope_filter([['appointment_id', 'appointment_ids']]) }}

),

client_records as (

    select
        client_id,
        chain_client_id
    from {{ ref('int_clients_keyed') }}

),

promotions as (

    select * from {{ ref('stg_crm__promotions') }}

),

final as (

    select
        appointments.appointment_id,
        appointments.visit_id,
        appointments.location_id,
        appointments.client_id,
        {{ fact_chain_client_id('appointments.client_id') }} as chain_client_id,
        appointments.specialist_id,
        appointments.promotion_id,
        promotions.promotion_type,
        appointments.deal_id,
        appointments.status,
        appointments.is_online,
        appointments.starts_at,
        appointments.starts_at_utc,
        appointments.created_at,
        appointments.created_at_utc
    from appointments
    left join client_records on appointments.client_id = client_records.client_id
    left join promotions on appointments.promotion_id = promotions.promotion_id

)

select * from final
