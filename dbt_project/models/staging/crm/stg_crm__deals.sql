with

source as (

    {{ valid_rows_with_location_timezone('base_crm__deals') }}

),

renamed as (

    select
        deal_id,
        location_id,
        client_id,
        {{ local_timestamp('opened_at', 'timezone') }} as opened_at,
        {{ utc_timestamp('opened_at', 'timezone') }} as opened_at_utc,
        channel,
        status,
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
        {{ version_rank('deal_id') }} as version_rank
    from renamed

),

final as (

    select
        deal_id,
        location_id,
        client_id,
        opened_at,
        opened_at_utc,
        channel,
        status,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
