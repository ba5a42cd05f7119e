-- The keys of the valid rows this build parsed, per entity: what an incremental build's staging
-- models recompute (the `parsed:<entity>` scopes), and where int_keys_changed starts from.
-- A small table of its own, so that the staging models can build beside int_keys_changed and
-- DuckDB sees a small key list when it filters a large model by it. Empty in a full build.
with

parsed_clients as (

    {{ new_keys('base_crm__clients', 'client_id') }}

),

parsed_sales as (

    {{ new_keys('base_crm__sales', 'sale_id') }}

),

parsed_deals as (

    {{ new_keys('base_crm__deals', 'deal_id') }}

),

parsed_appointments as (

    {{ new_keys('base_crm__appointments', 'appointment_id') }}

),

parsed_activities as (

    {{ new_keys('base_crm__activities', 'activity_id') }}

),

parsed_promo_activations as (

    {{ new_keys('base_crm__promo_activations', 'activation_id') }}

),

parsed_sms_messages as (

    {{ new_keys('base_crm__sms_messages', 'message_id') }}

),

parsed as (

    select
        'clients' as entity,
        scope_value as key_value
    from parsed_clients
    union all
    select
        'sales' as entity,
        scope_value as key_value
    from parsed_sales
    union all
    select
        'deals' as entity,
        scope_value as key_value
    from parsed_deals
    union all
    select
        'appointments' as entity,
        scope_value as key_value
    from parsed_appointments
    union all
    select
        'activities' as entity,
        scope_value as key_value
    from parsed_activities
    union all
    select
        'promo_activations' as entity,
        scope_value as key_value
    from parsed_promo_activations
    union all
    select
        'sms_messages' as entity,
        scope_value as key_value
    from parsed_sms_messages

),

final as (

    select
        cast(entity as {{ dbt.type_string() }}) as entity,
        cast(key_value as {{ dbt.type_string() }}) as key_value
    from parsed
    where
        key_value is not null
        and {{ 'false' if flags.FULL_REFRESH else 'true' }}

)

select * from final
