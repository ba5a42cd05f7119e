with

source as (

    {{ valid_rows_with_location_timezone('base_crm__sales') }}

),

renamed as (

    select
        sale_id,
        location_id,
        client_id,
        deal_id,
        visit_id,
        specialist_id,
        kind,
        amount,
        status,
        {{ local_timestamp('posted_at', 'timezone') }} as posted_at,
        {{ utc_timestamp('posted_at', 'timezone') }} as posted_at_utc,
        {{ local_timestamp('created_at', 'timezone') }} as created_at,
        {{ utc_timestamp('created_at', 'timezone') }} as created_at_utc,
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
        {{ version_rank('sale_id') }} as version_rank
    from renamed

),

final as (

    select
        sale_id,
        location_id,
        client_id,
        deal_id,
        visit_id,
        specialist_id,
        kind,
        amount,
        status,
        posted_at,
        posted_at_utc,
        created_at,
        created_at_utc,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
