{#- Value formats of the raw extract contract (raw-extracts.md, "Value formats").
    Each parser takes an already cleaned text expression (see clean_text) and returns the
    typed value, or null when the text is null or does not parse. Patterns live in set blocks
    so that Jinja never interprets their backslashes. -#}

{% macro _iso_timestamp_pattern() -%}
{% set p %}\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?{% endset %}
{{- p -}}
{%- endmacro %}

{% macro _ru_timestamp_pattern() -%}
{% set p %}\d{2}\.\d{2}\.\d{4} ([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?{% endset %}
{{- p -}}
{%- endmacro %}

{#- Which timestamp form a text has: 'iso', 'ru' or null (not a timestamp). One regex pass;
    the parsers below then take the text apart by position, which is far cheaper than more
    regexes over millions of values. -#}
{% macro timestamp_shape(text) -%}
    case
        when {{ regex_full_match(text, _iso_timestamp_pattern()) }} then 'iso'
        when {{ regex_full_match(text, _ru_timestamp_pattern()) }} then 'ru'
    end
{%- endmacro %}

{#- Length of the offset suffix of an ISO timestamp text: 'Z' 1, '+03:00' 6, '+0300' 5, else 0.
    Unambiguous once the text matched the ISO pattern: without an offset its last six
    characters are part of the time of day, never a sign. -#}
{% macro _iso_offset_length(text) -%}
    case
        when {{ text }} like '%Z' then 1
        when substr({{ text }}, length({{ text }}) - 5, 1) in ('+', '-') then 6
        when substr({{ text }}, length({{ text }}) - 4, 1) in ('+', '-') then 5
        else 0
    end
{%- endmacro %}

{#- Wall-clock part of a timestamp (offset dropped): naive timestamp. `shape` is the
    timestamp_shape of the text when the caller computed it once already. -#}
{% macro parse_timestamp_wall(text, shape=none) -%}
{%- set shape = shape or timestamp_shape(text) -%}
    case {{ shape }}
        when 'iso' then {{ iso_timestamp_wall(text) }}
        when 'ru'
            then {{ try_cast("substr(" ~ text ~ ", 7, 4) || '-' || substr(" ~ text ~ ", 4, 2) || '-' || substr(" ~ text ~ ", 1, 2) || substr(" ~ text ~ ", 11)", 'timestamp') }}
    end
{%- endmacro %}

{#- Wall-clock part of a text that matched the ISO pattern: the text without its offset, 'T'
    read as a space. -#}
{% macro iso_timestamp_wall(text) -%}
    {{ return(adapter.dispatch('iso_timestamp_wall', 'crm_analytics')(text)) }}
{%- endmacro %}

{% macro default__iso_timestamp_wall(text) -%}
    {{ try_cast("replace(substr(" ~ text ~ ", 1, length(" ~ text ~ ") - " ~ _iso_offset_length(text) ~ "), 'T', ' ')", 'timestamp') }}
{%- endmacro %}

{#- DuckDB's own cast reads such a text as its wall-clock time, the offset dropped whatever the
    session's time zone: the same values as the portable form (all 8.3M ISO texts of a year of
    sales' posted_at) in a third of its CPU, which went to Unicode-aware substr/length. -#}
{% macro duckdb__iso_timestamp_wall(text) -%}
    {{ try_cast(text, 'timestamp') }}
{%- endmacro %}

{#- Offset in minutes east of UTC when the text carries one (Z, +03:00, +0300), else null. -#}
{% macro parse_timestamp_offset_minutes(text, shape=none) -%}
{%- set shape = shape or timestamp_shape(text) -%}
{%- set length = 'length(' ~ text ~ ')' -%}
    case
        when {{ shape }} <> 'iso' or {{ shape }} is null then null
        when {{ text }} like '%Z' then 0
        when substr({{ text }}, {{ length }} - 5, 1) in ('+', '-')
            then (case when substr({{ text }}, {{ length }} - 5, 1) = '-' then -1 else 1 end)
                * (cast(substr({{ text }}, {{ length }} - 4, 2) as integer) * 60
                   + cast(substr({{ text }}, {{ length }} - 1, 2) as integer))
        when substr({{ text }}, {{ length }} - 4, 1) in ('+', '-')
            then (case when substr({{ text }}, {{ length }} - 4, 1) = '-' then -1 else 1 end)
                * (cast(substr({{ text }}, {{ length }} - 3, 2) as integer) * 60
                   + cast(substr({{ text }}, {{ length }} - 1, 2) as integer))
    end
{%- endmacro %}

{% macro parse_date(text) -%}
{% set iso %}\d{4}-\d{2}-\d{2}{% endset %}
{% set ru %}\d{2}\.\d{2}\.\d{4}{% endset %}
{% set ru_groups %}^(\d{2})\.(\d{2})\.(\d{4})${% endset %}
{% set ru_reorder %}\3-\2-\1{% endset %}
    case
        when {{ regex_full_match(text, iso) }} then {{ try_cast(text, 'date') }}
        when {{ regex_full_match(text, ru) }}
            then {{ try_cast(regex_replace_all(text, ru_groups, ru_reorder), 'date') }}
    end
{%- endmacro %}

{#- Money: spaces (also no-break) anywhere removed, '.' or ',' as the decimal mark, leading '-'. -#}
{% macro parse_money(text) -%}
{% set spaces %}[ \t\x{00A0}\x{202F}\x{2007}]{% endset %}
{% set money %}-?\d{1,26}([.,]\d{1,12})?{% endset %}
{%- set compact = regex_replace_all(text, spaces, '') -%}
    case
        when {{ regex_full_match(compact, money) }}
            then {{ try_cast("replace(" ~ compact ~ ", ',', '.')", money_type()) }}
    end
{%- endmacro %}

{% macro parse_integer(text) -%}
{% set integer %}-?\d{1,19}{% endset %}
    case when {{ regex_full_match(text, integer) }} then {{ try_cast(text, 'bigint') }} end
{%- endmacro %}

{% macro parse_boolean(text) -%}
    case
        when lower({{ text }}) in ('true', '1', 'yes', 'y', 'да') then true
        when lower({{ text }}) in ('false', '0', 'no', 'n', 'нет') then false
    end
{%- endmacro %}

{#- An enumerated value after trim + lower-case, or null when outside the list. -#}
{% macro parse_enum(text, values) -%}
    case when lower({{ text }}) in ({% for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor %})
        then lower({{ text }}) end
{%- endmacro %}

{#- Dispatch on the contract type of a column (meta.type / meta.values). -#}
{% macro parse_value(text, column) -%}
    {%- if column['values'] -%} {{ parse_enum(text, column['values']) }}
    {%- elif column.type == 'timestamp' -%} {{ parse_timestamp_wall(text) }}
    {%- elif column.type == 'date' -%} {{ parse_date(text) }}
    {%- elif column.type == 'money' -%} {{ parse_money(text) }}
    {%- elif column.type == 'integer' -%} {{ parse_integer(text) }}
    {%- elif column.type == 'boolean' -%} {{ parse_boolean(text) }}
    {%- else -%} {{ text }}
    {%- endif -%}
{%- endmacro %}
