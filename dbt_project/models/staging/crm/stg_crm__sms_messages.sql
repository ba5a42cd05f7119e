{{ config(
    materialized='scoped',
    replace_scope=[['message_id', 'sms_messages']]
) }}
-- depends_on: {{ ref('int_scopes_changed') }}
with

source as (

    select * from {{ ref('base_crm__sms_messages') }}
    where _is_valid{{ scope_filter([['message_id', 'sms_messages']]) }}

),

clients as (

    select * from {{ ref('stg_crm__clients') }}

),

localized as {{ inlined_cte() }} (

    -- messages take the time zone of their client's record (whose zone already falls back
    -- to the default for an unknown location)
    select
        source.*,
        coalesce(clients.timezone, {{ default_timezone() }}) as timezone
    from source
    left join clients on source.client_id = clients.client_id

),

current_versions as (

    {{ current_versions('localized', 'message_id') }}

),

renamed as (

    select
        message_id,
        client_id,
        campaign,
        {{ local_timestamp('sent_at', 'timezone') }} as sent_at,
        {{ utc_timestamp('sent_at', 'timezone') }} as sent_at_utc,
        status,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
