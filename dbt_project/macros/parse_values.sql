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

{#- Wall-clock part of a timestamp (offset dropped): naive timestamp. -#}
{% macro parse_timestamp_wall(text) -%}
{% set offset_suffix %}(Z|[+-]\d{2}:?\d{2})${% endset %}
{% set ru_prefix %}^(\d{2})\.(\d{2})\.(\d{4}) {% endset %}
{% set ru_reorder %}\3-\2-\1 {% endset %}
    case
        when {{ regex_full_match(text, _iso_timestamp_pattern()) }}
            then {{ try_cast("replace(" ~ regex_replace_all(text, offset_suffix, '') ~ ", 'T', ' ')", 'timestamp') }}
        when {{ regex_full_match(text, _ru_timestamp_pattern()) }}
            then {{ try_cast(regex_replace_all(text, ru_prefix, ru_reorder), 'timestamp') }}
    end
{%- endmacro %}

{#- Offset in minutes east of UTC when the text carries one (Z, +03:00, +0300), else null. -#}
{% macro parse_timestamp_offset_minutes(text) -%}
{% set offset_hhmm %}^.*[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-])(\d{2}):?(\d{2})${% endset %}
{% set sign_ref %}\3{% endset %}
{% set hours_ref %}\4{% endset %}
{% set minutes_ref %}\5{% endset %}
    case
        when not {{ regex_full_match(text, _iso_timestamp_pattern()) }} then null
        when {{ text }} like '%Z' then 0
        when {{ regex_full_match(text, offset_hhmm) }}
            then (case when {{ regex_replace_all(text, offset_hhmm, sign_ref) }} = '-' then -1 else 1 end)
                * (cast({{ regex_replace_all(text, offset_hhmm, hours_ref) }} as integer) * 60
                   + cast({{ regex_replace_all(text, offset_hhmm, minutes_ref) }} as integer))
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
