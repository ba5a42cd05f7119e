{#- Incremental builds (crm_analytics/build_plan.py decides when one is exact).

    An incremental build parses only the raw files landed since the last build; every model
    downstream recomputes only its rows in a changed scope (int_scopes_changed) and replaces
    them: the `scoped` materialization (materializations/scoped.sql) deletes the target's rows
    in scope, then inserts the rows the model selected for that scope. A key that disappeared
    (a delete, or a correction that moved a row elsewhere) is in scope and selects nothing, so
    it is removed. -#}

{#- True when any (column, scope) pair holds: column's value is in that changed scope. -#}
{% macro scope_predicate(pairs, scopes_relation=none) -%}
    {%- set conditions = [] -%}
    {%- for column, scope in pairs -%}
        {%- do conditions.append(in_scope(column, scope, scopes_relation)) -%}
    {%- endfor -%}
    ({{ conditions | join(' or ') }})
{%- endmacro %}

{#- `parsed:<entity>` is the keys of that entity's valid rows parsed in this build
    (int_keys_parsed): a model scoped by nothing else (staging, the client records) then needs
    only that small table and its own inputs, and builds beside int_keys_changed. Every other
    scope is a list in int_scopes_changed. Both are read through a relation built from the
    graph where a data test compiles the scope (a `ref` there would be a dependency dbt cannot
    see at parse time). -#}
{% macro in_scope(column, scope, scopes_relation=none) -%}
    {%- if scope.startswith('parsed:') -%}
        {{ column }} in (
            select key_value from {{ model_relation('int_keys_parsed') }}
            where entity = '{{ scope.split(':', 1)[1] }}'
        )
    {%- else -%}
        {{ column }} in (
            select scope_value from {{ scopes_relation or ref('int_scopes_changed') }}
            where scope = '{{ scope }}'
        )
    {%- endif -%}
{%- endmacro %}

{% macro model_relation(name) -%}
    {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', name) | first -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}

{#- Data tests in an incremental `dbt build` audit what the build changed: a test of a model
    with a replace_scope reads only that model's rows in the changed scope. Every other row
    is as the previous build left it, and that build's tests passed (build_plan makes a
    build after a failed one full). Full builds and `dbt test` read every row. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = changed_scope_of(relation) -%}
    {%- if scope -%}
        {%- set where = ('(' ~ where ~ ') and ' if where else '') ~ scope -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{% macro changed_scope_of(relation) -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH != 'build' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list -%}
    {%- set scopes = models | selectattr('name', 'equalto', 'int_scopes_changed') | first -%}
    {%- for node in models -%}
        {%- set pairs = node.config.get('replace_scope') -%}
        {%- if pairs and node.alias == relation.identifier and node.schema == relation.schema -%}
            {%- set scopes_relation = api.Relation.create(
                database=scopes.database, schema=scopes.schema, identifier=scopes.alias) -%}
            {{ return(scope_predicate(pairs, scopes_relation)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- In an incremental build, the rows of a model's scope only: `where`-less callers add
    `where true {{ scoped(...) }}`. -#}
{% macro scope_filter(pairs) -%}
    {%- if is_incremental() %} and {{ scope_predicate(pairs) }}{% endif -%}
{%- endmacro %}

{#- The raw rows of only the files landed since the last build (raw_new.<entity>, written by
    the pipeline before it runs dbt), minus any file already parsed. The parsed files are looked
    up among the new files' names, not listed whole: a semi-join on that short list skips the
    model's row groups outside its range, where a distinct list read all 10M names. -#}
{% macro new_raw_rows(entity) -%}
    {%- set new_files = source('raw', entity).incorporate(path={'schema': 'raw_new'}) -%}
    select new_rows.*
    from {{ new_files }} as new_rows
    where new_rows._source_file not in (
        select parsed._source_file
        from {{ this }} as parsed
        where parsed._source_file in (select landed._source_file from {{ new_files }} as landed)
    )
{%- endmacro %}

{#- The distinct keys of the valid rows this build parsed into a base model. -#}
{% macro new_keys(base_model, key) -%}
    select distinct {{ key }} as scope_value
    from {{ ref(base_model) }}
    where _is_valid and _dbt_invocation_id = '{{ invocation_id }}'
{%- endmacro %}
