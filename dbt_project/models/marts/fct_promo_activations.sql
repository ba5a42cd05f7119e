-- One row per activation with its code's attributes, the client's nth activation of the code
-- (all time, by time then activation_id) and whether the client was new at the code's
-- location (no realization there, by any of their records, before this activation).
{{ config(
    materialized='scoped',
    replace_scope=[['chain_client_id', 'activation_chain_client_ids']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

activations as (

    select * from {{ ref('stg_crm__promo_activations') }}

),

promo_codes as (

    select * from {{ ref('stg_crm__promo_codes') }}

),

client_records as (

    select
        client_id,
        chain_client_id
    from {{ ref('int_clients_keyed') }}

),

activation_clients as (

    select
        activations.*,
        {{ fact_chain_client_id('activations.client_id') }} as chain_client_id
    from activations
    left join client_records on activations.client_id = client_records.client_id

),

sales as (

    select * from {{ ref('fct_sales') }}
    where true{{ scope_filter([['chain_client_id', 'activation_chain_client_ids']]) }}

),

first_realizations as (

    select
        chain_client_id,
        location_id,
        min(posted_at_utc) as first_posted_at_utc
    from sales
    where chain_client_id is not null
    group by chain_client_id, location_id

),

joined as (

    select
        activation_clients.activation_id,
        activation_clients.promo_code_id,
        promo_codes.code,
        promo_codes.campaign,
        promo_codes.location_id,
        activation_clients.client_id,
        activation_clients.chain_client_id,
        activation_clients.activated_at,
        activation_clients.activated_at_utc,
        activation_clients.bonus_amount
    from activation_clients
    left join promo_codes on activation_clients.promo_code_id = promo_codes.promo_code_id
    where true{{ scope_filter([['chain_client_id', 'activation_chain_client_ids']]) }}

),

final as (

    select
        joined.*,
        row_number() over (
            partition by joined.promo_code_id, joined.chain_client_id
            order by joined.activated_at_utc, joined.activation_id
        ) as activation_number,
        coalesce(
            first_realizations.first_posted_at_utc >= joined.activated_at_utc, true
        ) as is_new_customer
    from joined
    left join first_realizations
        on
            joined.chain_client_id = first_realizations.chain_client_id
            and joined.location_id = first_realizations.location_id

)

select * from final
