with

promotions as (

    select * from {{ ref('stg_crm__promotions') }}

),

final as (

    select
        promotion_id,
        location_id,
        promotion_name,
        promotion_type,
        promotion_type in ('fixed_discount', 'fixed_cashback_sold', 'fixed_cashback_paid')
            as is_analysed_type,
        starts_on,
        ends_on
    from promotions

)

select * from final
