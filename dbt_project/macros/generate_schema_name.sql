{#- Models land in their folder's schema (staging, marts, ...) rather than <target>_<folder>:
    BI users and the report queries address marts.<model> whatever the target is. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
