with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__promo_codes') }}

),

current_versions as (

    {{ current_versions('source', 'promo_code_id') }}

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
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
