{#- Incremental builds (crm_analytics/build_plan.py decides when one is exact).

    An incremental build parses only the raw files landed since the last build; every model
    downstream recomputes only its rows in a changed scope (int_scopes_changed) and replaces
    them: the scoped_replace strategy deletes the target's rows in scope, then inserts the
    rows the model selected for that scope. A key that disappeared (a delete, or a correction
    that moved a row elsewhere) is in scope and selects nothing, so it is removed. -#}

{#- Materialization strategy: config replace_scope = [[column, scope], ...] (OR-ed). -#}
{% macro get_incremental_scoped_replace_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ scope_predicate(config.get('replace_scope')) }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{% endmacro %}

{#- True when any (column, scope) pair holds: column's value is in that changed scope. -#}
{% macro scope_predicate(pairs) -%}
    {%- set conditions = [] -%}
    {%- for column, scope in pairs -%}
        {%- do conditions.append(in_scope(column, scope)) -%}
    {%- endfor -%}
    ({{ conditions | join(' or ') }})
{%- endmacro %}

{% macro in_scope(column, scope) -%}
    {{ column }} in (
        select scope_value from {{ ref('int_scopes_changed') }} where scope = '{{ scope }}'
    )
{%- endmacro %}

{#- In an incremental build, the rows of a model's scope only: `where`-less callers add
    `where true {{ scoped(...) }}`. -#}
{% macro scope_filter(pairs) -%}
    {%- if is_incremental() %} and {{ scope_predicate(pairs) }}{% endif -%}
{%- endmacro %}

{#- The raw rows of only the files landed since the last build (raw_new.<entity>, written by
    the pipeline before it runs dbt), minus any file already parsed. -#}
{% macro new_raw_rows(entity) -%}
    select new_rows.*
    from {{ source('raw', entity).incorporate(path={'schema': 'raw_new'}) }} as new_rows
    where new_rows._source_file not in (
        select distinct parsed._source_file from {{ this }} as parsed
    )
{%- endmacro %}
