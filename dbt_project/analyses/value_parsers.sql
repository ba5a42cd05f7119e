-- Every value parser of the raw contract over one text column, for the property tests in
-- tests/test_value_parsers_property.py, which bind `value_parser_input(v)` to each example.
-- Staging parses `<column>_raw`, the landed text after clean_text, and normalises phone,
-- email and activity_type from that cleaned text too: so the parsers here see `v` cleaned.
with

cleaned as (

    select
        v as landed_v,
        {{ clean_text('v') }} as v
    from value_parser_input

)

select
    landed_v,
    {{ parse_timestamp_wall('v') }} as ts_wall,
    {{ parse_timestamp_offset_minutes('v') }} as ts_offset,
    -- the portable reading of an ISO text's wall clock, which DuckDB replaces by its own cast
    {{ crm_analytics.default__iso_timestamp_wall('v') }} as ts_wall_iso_portable,
    {{ parse_date('v') }} as date_value,
    {{ parse_money('v') }} as money_value,
    {{ parse_integer('v') }} as integer_value,
    {{ parse_boolean('v') }} as boolean_value,
    v as text_value,
    {{ normalize_phone('v') }} as phone_digits,
    {{ normalize_email('v') }} as email_value,
    {{ normalize_activity_type('v') }} as activity_type
from cleaned
