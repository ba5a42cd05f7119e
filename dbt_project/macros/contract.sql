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


{#- Quarantine and warning conditions of one column, as (reason, condition) pairs over the
    typed relation produced by base_crm_model: <col>_raw is the cleaned text, <col> the value. -#}
{% macro column_issues(column) -%}
    {%- set raw = column.name ~ '_raw' -%}
    {%- set invalid = raw ~ ' is not null and ' ~ column.name ~ ' is null' -%}
    {%- if column['values'] -%}
        {%- set invalid_reason = 'not one of ' ~ (column['values'] | join(', ')) -%}
    {%- else -%}
        {%- set invalid_reason = 'unparseable ' ~ column.type -%}
    {%- endif -%}
    {%- set issues = {'quarantine': [], 'warning': []} -%}
    {%- if column.required -%}
        {%- do issues.quarantine.append(('missing required value', raw ~ ' is null')) -%}
        {%- if column.type != 'text' or column['values'] -%}
            {%- do issues.quarantine.append((invalid_reason, invalid)) -%}
        {%- endif -%}
    {%- elif column.required_when_status -%}
        {%- set when = "status = '" ~ column.required_when_status ~ "'" -%}
        {%- do issues.quarantine.append(('missing value required when status is ' ~ column.required_when_status, when ~ ' and ' ~ raw ~ ' is null')) -%}
        {%- do issues.quarantine.append((invalid_reason, when ~ ' and ' ~ invalid)) -%}
        {%- do issues.warning.append((invalid_reason ~ '; loaded as null', '(status is null or status <> ' ~ "'" ~ column.required_when_status ~ "') and " ~ invalid)) -%}
    {%- elif column.type != 'text' or column['values'] -%}
        {%- do issues.warning.append((invalid_reason ~ '; loaded as null', invalid)) -%}
    {%- endif -%}
    {{ return(issues) }}
{%- endmacro %}


{#- Every raw row of an entity with typed columns and validity flags (all versions).
    For each contract column: <col>_raw (cleaned text) and <col> (typed); timestamps add
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

typed as (

    select
        *,
        {%- for column in columns %}
        {%- if column.type == 'timestamp' %}
        {{ parse_timestamp_offset_minutes(column.name ~ '_raw') }} as {{ column.name }}_offset_minutes,
        {%- endif %}
        {{ parse_value(column.name ~ '_raw', column) }} as {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from cleaned

),

final as (

    select
        *,
        {%- set quarantine = [] -%}
        {%- set warning = [] -%}
        {%- for column in columns -%}
            {%- set issues = column_issues(column) -%}
            {%- for reason, condition in issues.quarantine %}{% do quarantine.append(condition) %}{% endfor -%}
            {%- for reason, condition in issues.warning %}{% do warning.append(condition) %}{% endfor -%}
        {%- endfor %}
        not ({{ quarantine | join(' or ') if quarantine else 'false' }}) as _is_valid,
        ({{ warning | join(' or ') if warning else 'false' }}) as _has_warnings,
        -- which build parsed the row: an incremental build's changed scopes start from it
        '{{ invocation_id }}' as _dbt_invocation_id
    from typed

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
                ~ column.name ~ "' as column_name, " ~ column.name ~ "_raw as value, '"
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
