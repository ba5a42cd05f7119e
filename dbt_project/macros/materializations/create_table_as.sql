{#- dbt-duckdb's create_table_as, except for tables of the working database (raw views, base,
    staging, intermediate): those store text uncompressed. DuckDB's dictionary+FSST compression
    of text cost as much CPU as computing a model (a full build spent 52 CPU-s more with it, of
    about 335). Working tables are written whole by every full build and read by key by the
    incremental ones, which scan uncompressed text at least as fast. The serving database keeps
    DuckDB's compression: an incremental build first copies the published file, whose size
    doubles without it. Contracted models (the marts) keep dbt-duckdb's own DDL. Text columns of
    few distinct values (`compressed_working_text_columns`) keep DuckDB's compression: a
    dictionary of a few entries costs less to write and read than the texts themselves. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if language != 'sql' or temporary or partitioned_by or sorted_by
        or config.get('contract').enforced or relation.database != target.database -%}
        {{ dbt.duckdb__create_table_as(
            temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- else -%}
        {%- set columns = run_query(
            'describe select * from (\n' ~ compiled_code ~ '\n) as model_subq').rows -%}
        {%- set sql_header = config.get('sql_header', none) -%}
        {%- set low_cardinality = var('compressed_working_text_columns') -%}
        {{ sql_header if sql_header is not none }}
        create table {{ relation }} (
            {%- for column in columns %}
            {{ adapter.quote(column[0]) }} {{ column[1] }}
            {%- if column[1] == 'VARCHAR' and column[0] not in low_cardinality %} using compression uncompressed{% endif %}
            {{- ',' if not loop.last }}
            {%- endfor %}
        );
        insert into {{ relation }}
        select * from (
            {{ compiled_code }}
        ) as model_subq;
    {%- endif -%}
{%- endmacro %}
