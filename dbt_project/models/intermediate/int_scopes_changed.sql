-- What an incremental build must recompute (macros/incremental.sql): the changed keys of
-- int_keys_changed, plus, for each of its <purpose>client_ids scopes, <purpose>chain_client_ids:
-- every chain client such a client_id has ever belonged to or now belongs to (chain-client
-- marts recompute whole chain clients). Empty in a full build.
with

keys_changed as (

    select * from {{ ref('int_keys_changed') }}

),

affected_client_ids as (

    select
        replace(scope, 'client_ids', 'chain_client_ids') as scope,
        scope_value
    from keys_changed
    where scope like '%client_ids'

),

client_versions as (

    select * from {{ ref('base_crm__clients') }}
    where _is_valid

),

changed_chain_client_ids as (

    select
        scope,
        {{ md5_hex("'client:' || scope_value") }} as scope_value
    from affected_client_ids
    union
    select
        affected_client_ids.scope,
        {{ md5_hex(chain_identity_key(
            normalize_phone('client_versions.phone'),
            normalize_email('client_versions.email'),
            'client_versions.client_id',
        )) }}
    from client_versions
    inner join affected_client_ids
        on client_versions.client_id = affected_client_ids.scope_value

),

final as (

    select
        scope,
        scope_value
    from keys_changed
    union all
    select
        scope,
        cast(scope_value as {{ dbt.type_string() }}) as scope_value
    from changed_chain_client_ids

)

select * from final
