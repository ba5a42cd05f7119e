with

promo_codes as (

    select * from {{ ref('stg_crm__promo_codes') }}

),

final as (

    select
        promo_code_id,
        code,
        campaign,
        location_id,
        bonus_per_activation,
        activation_limit,
        account_limit,
        first_topup_only,
        planned_activations,
        starts_at,
        starts_at_utc,
        ends_at,
        ends_at_utc,
        timezone
    from promo_codes

)

select * from final
