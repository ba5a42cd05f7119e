{{ config(
    materialized='scoped',
    replace_scope=[['activity_id', 'parsed:activities']]
) }}
-- depends_on: {{ ref('int_keys_parsed') }}
with

source as {{ inlined_cte() }} (

    {{ valid_rows_with_location_timezone('base_crm__activities', 'activity_id', 'parsed:activities') }}

),

current_versions as (

    {{ current_versions('source', 'activity_id') }}

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
        updated_at_utc,
        _source_file,
        _row_number
    from current_versions

)

select * from renamed
