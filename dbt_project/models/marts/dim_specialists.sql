with

specialists as (

    select * from {{ ref('stg_crm__specialists') }}

),

locations as (

    select * from {{ ref('stg_crm__locations') }}

),

final as (

    select
        specialists.specialist_id,
        specialists.specialist_name,
        specialists.position,
        specialists.location_id,
        locations.location_name
    from specialists
    left join locations on specialists.location_id = locations.location_id

)

select * from final
