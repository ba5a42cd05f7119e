with

source as (

    select * from {{ ref('base_crm__sms_messages') }}
    where _is_valid

),

clients as (

    select * from {{ ref('stg_crm__clients') }}

),

localized as (

    -- messages take the time zone of their client's record (whose zone already falls back
    -- to the default for an unknown location)
    select
        source.*,
        coalesce(clients.timezone, {{ default_timezone() }}) as timezone
    from source
    left join clients on source.client_id = clients.client_id

),

renamed as (

    select
        message_id,
        campaign,
        client_id,
        {{ local_timestamp('sent_at', 'timezone') }} as sent_at,
        {{ utc_timestamp('sent_at', 'timezone') }} as sent_at_utc,
        status,
        timezone,
        coalesce(is_deleted, false) as is_deleted,
        {{ utc_timestamp('updated_at', 'timezone') }} as updated_at_utc,
        _source_file,
        _row_number
    from localized

),

versions as (

    select
        *,
        {{ version_rank('message_id') }} as version_rank
    from renamed

),

final as (

    select
        message_id,
        campaign,
        client_id,
        sent_at,
        sent_at_utc,
        status,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
