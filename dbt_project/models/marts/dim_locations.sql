with

locations as (

    select * from {{ ref('stg_crm__locations') }}

),

final as (

    select
        location_id,
        location_name,
        location_group,
        city,
        timezone
    from locations

)

select * from final
