with

source as (

    {{ valid_rows_with_location_timezone('base_crm__promo_codes') }}

),

renamed as (

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
        {{ local_timestamp('starts_at', 'timezone') }} as starts_at,
        {{ utc_timestamp('starts_at', 'timezone') }} as starts_at_utc,
        {{ local_timestamp('ends_at', 'timezone') }} as ends_at,
        {{ utc_timestamp('ends_at', 'timezone') }} as ends_at_utc,
        timezone,
        coalesce(is_deleted, false) as is_deleted,
        {{ utc_timestamp('updated_at', 'timezone') }} as updated_at_utc,
        _source_file,
        _row_number
    from source

),

versions as (

    select
        *,
        {{ version_rank('promo_code_id') }} as version_rank
    from renamed

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
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
