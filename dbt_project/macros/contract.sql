{#- The raw extract contract as declared in models/staging/crm/_crm__sources.yml. -#}

{#- [{name, type, required, required_when_status, values}] of a raw entity, in contract order
    (vars.raw_contract in dbt_project.yml). -#}
{% macro contract_columns(entity) -%}
    {%- set columns = [] -%}
    {%- for name, meta in var('raw_contract')[entity]['columns'].items() -%}
        {%- do columns.append({
            'name': name,
            'type': meta.get('type'),
            'required': meta.get('required', false),
            'required_when_status': meta.get('required_when_status'),
            'values': meta.get('values'),
        }) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro contract_entities() -%}
    {{ return(var('raw_contract').keys() | list) }}
{%- endmacro %}


{#- True for a contract column kept as text: its typed value is its cleaned text. -#}
{% macro is_text_column(column) -%}
    {{ return(column.type == 'text' and not column['values']) }}
{%- endmacro %}

{#- The text column holding a column's landed value where an issue needs it: the value itself
    for a text column, else <col>_raw. -#}
{% macro raw_value_column(column) -%}
    {{ return(column.name if is_text_column(column) else column.name ~ '_raw') }}
{%- endmacro %}


{#- Quarantine and warning conditions of one column, as (reason, condition) pairs over the
    typed relation produced by base_crm_model (<col> the value, <col>_raw the text that did not
    parse). The conditions hold both inside base_crm_model, where <col>_raw is still every
    cleaned text, and over the stored table, where it is kept only when it did not parse:
    "missing" is no value and no unparsed text, "invalid" is unparsed text. -#}
{% macro column_issues(column) -%}
    {%- set raw = raw_value_column(column) -%}
    {%- if is_text_column(column) -%}
        {%- set missing = column.name ~ ' is null' -%}
    {%- else -%}
        {%- set missing = column.name ~ ' is null and ' ~ raw ~ ' is null' -%}
    {%- endif -%}
    {%- set invalid = raw ~ ' is not null and ' ~ column.name ~ ' is null' -%}
    {%- if column['values'] -%}
        {%- set invalid_reason = 'not one of ' ~ (column['values'] | join(', ')) -%}
    {%- else -%}
        {%- set invalid_reason = 'unparseable ' ~ column.type -%}
    {%- endif -%}
    {%- set issues = {'quarantine': [], 'warning': []} -%}
    {%- if column.required -%}
        {%- do issues.quarantine.append(('missing required value', missing)) -%}
        {%- if not is_text_column(column) -%}
            {%- do issues.quarantine.append((invalid_reason, invalid)) -%}
        {%- endif -%}
    {%- elif column.required_when_status -%}
        {%- set when = "status = '" ~ column.required_when_status ~ "'" -%}
        {%- do issues.quarantine.append(('missing value required when status is ' ~ column.required_when_status, when ~ ' and (' ~ missing ~ ')')) -%}
        {%- if not is_text_column(column) -%}
            {%- do issues.quarantine.append((invalid_reason, when ~ ' and ' ~ invalid)) -%}
            {%- do issues.warning.append((invalid_reason ~ '; loaded as null', '(status is null or status <> ' ~ "'" ~ column.required_when_status ~ "') and " ~ invalid)) -%}
        {%- endif -%}
    {%- elif not is_text_column(column) -%}
        {%- do issues.warning.append((invalid_reason ~ '; loaded as null', invalid)) -%}
    {%- endif -%}
    {{ return(issues) }}
{%- endmacro %}


{#- Every raw row of an entity with typed columns and validity flags (all versions).
    For each contract column <col> (typed; a text column is its cleaned text); a typed column
    adds <col>_raw, the cleaned text only when it did not parse (what the audit shows; kept
    sparse because writing every text twice costs more than parsing it); timestamps add
    <col>_offset_minutes. _is_valid is false when the row must be quarantined. -#}
{% macro base_crm_model(entity) -%}
{%- set columns = contract_columns(entity) -%}
with

source as (

    {%- if is_incremental() %}
    {{ new_raw_rows(entity) }}
    {%- else %}
    select * from {{ source('raw', entity) }}
    {%- endif %}

),

cleaned as (

    select
        _source_file,
        _row_number,
        _ingested_at,
        {%- for column in columns %}
        {{ clean_text(column.name) }} as {{ column.name }}_raw{{ "," if not loop.last }}
        {%- endfor %}
    from source

),

shaped as (

    {%- set timestamps = columns | selectattr('type', 'equalto', 'timestamp') | list %}

    select
        {%- for column in timestamps %}
        {{ timestamp_shape(column.name ~ '_raw') }} as {{ column.name }}_shape,
        {%- endfor %}
        *
    from cleaned

),

typed as (

    select
        *,
        {%- for column in columns %}
        {%- if column.type == 'timestamp' %}
        {{ parse_timestamp_offset_minutes(column.name ~ '_raw', column.name ~ '_shape') }} as {{ column.name }}_offset_minutes,
        {{ parse_timestamp_wall(column.name ~ '_raw', column.name ~ '_shape') }} as {{ column.name }}{{ "," if not loop.last }}
        {%- else %}
        {{ parse_value(column.name ~ '_raw', column) }} as {{ column.name }}{{ "," if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from shaped

),

flagged as (

    select
        *,
        {%- set quarantine = [] -%}
        {%- set warning = [] -%}
        {%- for column in columns -%}
            {%- set issues = column_issues(column) -%}
            {%- for reason, condition in issues.quarantine %}{% do quarantine.append('(' ~ condition ~ ')') %}{% endfor -%}
            {%- for reason, condition in issues.warning %}{% do warning.append('(' ~ condition ~ ')') %}{% endfor -%}
        {%- endfor %}
        not ({{ quarantine | join(' or ') if quarantine else 'false' }}) as _is_valid,
        ({{ warning | join(' or ') if warning else 'false' }}) as _has_warnings
    from typed

),

final as (

    select
        _source_file,
        _row_number,
        _ingested_at,
        {%- for column in columns %}
        {{ column.name }},
        {%- if not is_text_column(column) %}
        case when {{ column.name }} is null then {{ column.name }}_raw end as {{ column.name }}_raw,
        {%- endif %}
        {%- if column.type == 'timestamp' %}
        {{ column.name }}_offset_minutes,
        {%- endif %}
        {%- endfor %}
        _is_valid,
        _has_warnings,
        -- which build parsed the row: an incremental build's changed scopes start from it
        '{{ invocation_id }}' as _dbt_invocation_id
    from flagged

)

select * from final
{%- endmacro %}


{#- One row per (row, column) issue of every entity: quarantines or warnings. -#}
{% macro value_issues(severity) -%}
{%- set selects = [] -%}
{%- for entity in contract_entities() -%}
    {#- a quarantined row is not loaded, so its optional values are not warned about -#}
    {%- set flag = 'not _is_valid' if severity == 'quarantine' else '_is_valid and _has_warnings' -%}
    {#- an incremental build appends the issues of the rows it parsed -#}
    {%- if is_incremental() -%}
        {%- set flag = flag ~ " and _dbt_invocation_id = '" ~ invocation_id ~ "'" -%}
    {%- endif -%}
    {%- for column in contract_columns(entity) -%}
        {%- for reason, condition in column_issues(column)[severity] -%}
            {%- do selects.append(
                "select '" ~ entity ~ "' as entity, _source_file as file_name, _row_number as row_number, '"
                ~ column.name ~ "' as column_name, " ~ raw_value_column(column) ~ " as value, '"
                ~ reason ~ "' as reason from " ~ ref('base_crm__' ~ entity)
                ~ " where " ~ flag ~ " and (" ~ condition ~ ")") -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endfor -%}
{%- if selects -%}
{{ selects | join('\nunion all\n') }}
{%- else -%}
{#- parse time: declare the dependencies so dbt orders the DAG -#}
{%- for entity in contract_entities() %}
-- depends_on: {{ ref('base_crm__' ~ entity) }}
{%- endfor %}
select
    cast(null as {{ dbt.type_string() }}) as entity,
    cast(null as {{ dbt.type_string() }}) as file_name,
    cast(null as {{ dbt.type_bigint() }}) as row_number,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_string() }}) as value,
    cast(null as {{ dbt.type_string() }}) as reason
where 1 = 0
{%- endif -%}
{%- endmacro %}
