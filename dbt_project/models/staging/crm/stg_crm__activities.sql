with

source as (

    {{ valid_rows_with_location_timezone('base_crm__activities') }}

),

renamed as (

    select
        activity_id,
        client_id,
        location_id,
        associate_id,
        {{ normalize_activity_type('activity_type') }} as activity_type,
        {{ local_timestamp('occurred_at', 'timezone') }} as occurred_at,
        {{ utc_timestamp('occurred_at', 'timezone') }} as occurred_at_utc,
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
        {{ version_rank('activity_id') }} as version_rank
    from renamed

),

final as (

    select
        activity_id,
        client_id,
        location_id,
        associate_id,
        activity_type,
        occurred_at,
        occurred_at_utc,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
