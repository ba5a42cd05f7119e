{{ config(
    materialized='scoped',
    replace_scope=[['activation_id', 'parsed:promo_activations']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

source as (

    select * from {{ ref('base_crm__promo_activations') }}
    where _is_valid{{ scope_filter([['activation_id', 'parsed:promo_activations']]) }}

),

promo_codes as (

    select * from {{ ref('stg_crm__promo_codes') }}

),

localized as {{ inlined_cte() }} (

    -- activations take the time zone of their code's location (whose zone already falls
    -- back to the default for an unknown location)
    select
        source.*,
        coalesce(promo_codes.timezone, {{ default_timezone() }}) as timezone
    from source
    left join promo_codes on source.promo_code_id = promo_codes.promo_code_id

),

current_versions as (

    {{ current_versions('localized', 'activation_id') }}

),

renamed as (

    select
        activation_id,
        promo_code_id,
        client_id,
        {{ local_timestamp('activated_at', 'timezone') }} as activated_at,
        {{ utc_timestamp('activated_at', 'timezone') }} as activated_at_utc,
        bonus_amount,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
