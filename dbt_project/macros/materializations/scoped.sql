{#- `materialized='scoped'`: a table that an incremental build updates in place for a changed
    scope (macros/incremental.sql). A full build, or a first one, creates it whole (contracts
    enforced as for any table). An incremental build deletes the rows in scope, then inserts the
    rows the model selects for that scope, in one statement each. dbt's incremental
    materialization would first store the selected rows in a temporary table and compare its
    columns with the target's (three more queries and a second write per model): the pipeline
    builds incrementally only when the project is unchanged (crm_analytics/build_plan.py), so
    the columns cannot differ, and an insert whose select lacks one of the target's columns
    fails. Config: replace_scope = [[column, scope], ...] (OR-ed). -#}
{% materialization scoped, default %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is not none and existing_relation.is_table and not should_full_refresh() -%}
        {%- set columns = adapter.get_columns_in_relation(existing_relation) | map(attribute='name') -%}
        {%- set column_list = get_quoted_csv(columns) -%}
        {% call statement('main') %}
            delete from {{ target_relation }} where {{ scope_predicate(config.get('replace_scope')) }};
            insert into {{ target_relation }} ({{ column_list }})
            select {{ column_list }} from (
                {{ sql }}
            ) as scoped_rows
        {% endcall %}
    {%- else -%}
        {%- if existing_relation is not none -%}
            {% do adapter.drop_relation(existing_relation) %}
        {%- endif -%}
        {% call statement('main') %}
            {{ create_table_as(False, target_relation, sql) }}
        {% endcall %}
    {%- endif %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#- dbt's is_incremental(), true for scoped models too: their SQL selects only the changed scope
    when the build updates an existing table. -#}
{% macro is_incremental() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
    {{ return(
        relation is not none
        and relation.type == 'table'
        and model.config.materialized in ('incremental', 'scoped')
        and not should_full_refresh()
    ) }}
{% endmacro %}
