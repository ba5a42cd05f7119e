{#- Small cross-database helpers the models use instead of engine-specific syntax.
    DuckDB is the embedded default; postgres/spark implementations keep the SQL portable. -#}

{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'crm_analytics')(expr, type)) }}
{%- endmacro %}

{% macro default__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro postgres__try_cast(expr, type) -%}
    {#- postgres has no try_cast: callers only cast text already validated by a regex -#}
    cast({{ expr }} as {{ type }})
{%- endmacro %}


{#- A regex literal: spark's parser unescapes backslashes in string literals, the others don't. -#}
{% macro regex_literal(pattern) -%}
    {{ return(adapter.dispatch('regex_literal', 'crm_analytics')(pattern)) }}
{%- endmacro %}

{% macro default__regex_literal(pattern) -%}
    '{{ pattern | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__regex_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{#- True when the whole of expr matches pattern (null when expr is null). -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'crm_analytics')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, {{ regex_literal(pattern) }})
{%- endmacro %}

{% macro postgres__regex_full_match(expr, pattern) -%}
    ({{ expr }} ~ {{ regex_literal('^(' ~ pattern ~ ')$') }})
{%- endmacro %}

{% macro spark__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike {{ regex_literal('^(' ~ pattern ~ ')$') }})
{%- endmacro %}


{#- Replace every match; replacement uses \1-style group references. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'crm_analytics')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ regex_literal(pattern) }}, {{ regex_literal(replacement) }}, 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ regex_literal(pattern) }}, {{ regex_literal(replacement | replace('\\', '$')) }})
{%- endmacro %}


{#- Trim spaces, tabs, line breaks and non-breaking spaces; empty becomes null. -#}
{% macro clean_text(expr) -%}
    {{ return(adapter.dispatch('clean_text', 'crm_analytics')(expr)) }}
{%- endmacro %}

{% macro default__clean_text(expr) -%}
    {#- trim allocates a new string for every value; test both ends first (most texts have
        nothing to trim) and return the landed text itself then -#}
    {%- set blanks = '32, 9, 10, 13, 160, 8239, 8199' -%}
    case
        when {{ expr }} = '' then null
        when ascii({{ expr }}) in ({{ blanks }}) or ascii(right({{ expr }}, 1)) in ({{ blanks }})
            then nullif(trim({{ expr }}, {{ whitespace_chars() }}), '')
        else {{ expr }}
    end
{%- endmacro %}

{% macro postgres__clean_text(expr) -%}
    nullif(btrim({{ expr }}, {{ whitespace_chars() }}), '')
{%- endmacro %}

{% macro spark__clean_text(expr) -%}
    nullif(trim(both {{ whitespace_chars() }} from {{ expr }}), '')
{%- endmacro %}

{% macro whitespace_chars() -%}
    {#- space, tab, LF, CR, no-break space, narrow no-break space, figure space -#}
    {{ "' ' || chr(9) || chr(10) || chr(13) || chr(160) || chr(8239) || chr(8199)" }}
{%- endmacro %}


{#- Timestamps are stored naive: *_utc columns hold UTC, the others wall-clock local time. -#}
{% macro local_to_utc(wall_ts, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'crm_analytics')(wall_ts, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc(wall_ts, tz) -%}
    timezone('UTC', timezone({{ tz }}, {{ wall_ts }}))
{%- endmacro %}

{#- One time zone conversion, not two: the instant's UTC wall clock is its epoch in
    microseconds, exactly, where timezone('UTC', ...) would go through ICU again (half the
    cost of every local time at 10M rows). -#}
{% macro duckdb__local_to_utc(wall_ts, tz) -%}
    make_timestamp(epoch_us(timezone({{ tz }}, {{ wall_ts }})))
{%- endmacro %}

{% macro postgres__local_to_utc(wall_ts, tz) -%}
    (({{ wall_ts }} at time zone {{ tz }}) at time zone 'UTC')
{%- endmacro %}

{% macro spark__local_to_utc(wall_ts, tz) -%}
    to_utc_timestamp({{ wall_ts }}, {{ tz }})
{%- endmacro %}

{% macro utc_to_local(utc_ts, tz) -%}
    {{ return(adapter.dispatch('utc_to_local', 'crm_analytics')(utc_ts, tz)) }}
{%- endmacro %}

{% macro default__utc_to_local(utc_ts, tz) -%}
    timezone({{ tz }}, timezone('UTC', {{ utc_ts }}))
{%- endmacro %}

{% macro duckdb__utc_to_local(utc_ts, tz) -%}
    timezone({{ tz }}, make_timestamptz(epoch_us({{ utc_ts }})))
{%- endmacro %}

{% macro postgres__utc_to_local(utc_ts, tz) -%}
    (({{ utc_ts }} at time zone 'UTC') at time zone {{ tz }})
{%- endmacro %}

{% macro spark__utc_to_local(utc_ts, tz) -%}
    from_utc_timestamp({{ utc_ts }}, {{ tz }})
{%- endmacro %}


{#- Lower-case hex md5 of a text expression: stable chain_client_id on every engine. -#}
{% macro md5_hex(expr) -%}
    lower(md5(cast({{ expr }} as {{ dbt.type_string() }})))
{%- endmacro %}

{% macro money_type() -%}
    {#- exact decimals; 12 places keep any realistic input exactly (DECISIONS.md) -#}
    decimal(38, 12)
{%- endmacro %}

{#- `materialized` for a CTE read more than once that must be computed once (DuckDB and
    Postgres inline CTEs by default); Spark has no such hint and caches on its own terms. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'crm_analytics')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro spark__materialized_cte() -%}
{%- endmacro %}

{#- `not materialized` for a CTE read more than once that is cheaper to compute again than
    to store: DuckDB (and Postgres) would otherwise materialize it, every column of every row.
    Spark always inlines. -#}
{% macro inlined_cte() -%}
    {{ return(adapter.dispatch('inlined_cte', 'crm_analytics')()) }}
{%- endmacro %}

{% macro default__inlined_cte() -%}
    not materialized
{%- endmacro %}

{% macro spark__inlined_cte() -%}
{%- endmacro %}


{#- An aggregate: `expr` on the row of its group with the greatest (`pick` 'greatest') or
    least ('least') `keys`, a list of expressions compared in order that ends with a unique
    one, so that one row is picked. A null `expr` on that row is the answer; the keys must not
    be null. Where the engine has it, one pass per group instead of sorting every partition
    as row_number() would. -#}
{% macro value_at(expr, keys, pick) -%}
    {%- if pick not in ('greatest', 'least') -%}
        {{ exceptions.raise_compiler_error("value_at: pick is 'greatest' or 'least', not " ~ pick) }}
    {%- endif -%}
    {{ return(adapter.dispatch('value_at', 'crm_analytics')(expr, keys, pick)) }}
{%- endmacro %}

{% macro default__value_at(expr, keys, pick) -%}
    {{ 'arg_max_null' if pick == 'greatest' else 'arg_min_null' }}({{ expr }}, struct_pack(
        {%- for key in keys %}k{{ loop.index }} := {{ key }}{{ ", " if not loop.last }}{% endfor -%}
    ))
{%- endmacro %}

{% macro postgres__value_at(expr, keys, pick) -%}
    (array_agg({{ expr }} order by
        {%- for key in keys %} {{ key }} {{ 'desc' if pick == 'greatest' else 'asc' }}{{ "," if not loop.last }}{% endfor -%}
    ))[1]
{%- endmacro %}

{% macro spark__value_at(expr, keys, pick) -%}
    {{ 'max_by' if pick == 'greatest' else 'min_by' }}({{ expr }}, struct({{ keys | join(', ') }}))
{%- endmacro %}


{#- value_at for several columns of the same row at once, as one aggregate (DuckDB compares
    the keys once per row instead of once per column: fct_visits at 10M realizations 1.8
    against 6.3 s for five value_at): the aggregate column `name`, whose fields
    `value_field(name, column)` reads. -#}
{% macro values_at(name, columns, keys, pick) -%}
    {%- if pick not in ('greatest', 'least') -%}
        {{ exceptions.raise_compiler_error("values_at: pick is 'greatest' or 'least', not " ~ pick) }}
    {%- endif -%}
    {{ return(adapter.dispatch('values_at', 'crm_analytics')(name, columns, keys, pick)) }}
{%- endmacro %}

{% macro default__values_at(name, columns, keys, pick) -%}
    {%- set fields = [] -%}
    {%- for column in columns %}{% do fields.append(column ~ ' := ' ~ column) %}{% endfor -%}
    {{ value_at('struct_pack(' ~ fields | join(', ') ~ ')', keys, pick) }} as {{ name }}
{%- endmacro %}

{% macro postgres__values_at(name, columns, keys, pick) -%}
    {%- for column in columns %}
    {{ value_at(column, keys, pick) }} as {{ name }}__{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro spark__values_at(name, columns, keys, pick) -%}
    {%- set fields = [] -%}
    {%- for column in columns %}{% do fields.append("'" ~ column ~ "', " ~ column) %}{% endfor -%}
    {{ value_at('named_struct(' ~ fields | join(', ') ~ ')', keys, pick) }} as {{ name }}
{%- endmacro %}

{% macro value_field(name, column) -%}
    {{ return(adapter.dispatch('value_field', 'crm_analytics')(name, column)) }}
{%- endmacro %}

{% macro default__value_field(name, column) -%}
    {{ name }}.{{ column }}
{%- endmacro %}

{% macro postgres__value_field(name, column) -%}
    {{ name }}__{{ column }}
{%- endmacro %}
