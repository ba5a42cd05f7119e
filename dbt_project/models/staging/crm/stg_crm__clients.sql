with

source as (

    {{ valid_rows_with_location_timezone('base_crm__clients') }}

),

renamed as (

    select
        client_id,
        location_id,
        name as client_name,
        phone,
        {{ normalize_phone('phone') }} as phone_digits,
        email,
        {{ normalize_email('email') }} as email_normalized,
        card_number,
        {{ normalize_gender('gender') }} as gender,
        {{ normalize_importance('importance') }} as importance,
        {{ local_timestamp('registered_at', 'timezone') }} as registered_at,
        {{ utc_timestamp('registered_at', 'timezone') }} as registered_at_utc,
        coalesce(balance, 0) as balance,
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
        {{ version_rank('client_id') }} as version_rank
    from renamed

),

final as (

    select
        client_id,
        location_id,
        client_name,
        phone,
        phone_digits,
        email,
        email_normalized,
        card_number,
        gender,
        importance,
        registered_at,
        registered_at_utc,
        balance,
        timezone,
        updated_at_utc,
        _source_file,
        _row_number
    from versions
    where version_rank = 1 and not is_deleted

)

select * from final
