{#- A key column: no null and no value twice. One query (and one dbt node) instead of the
    `unique` and `not_null` pair, which read the same column twice and cost dbt a node each. -#}
{% test primary_key(model, column_name) %}
select
    {{ column_name }} as key_value,
    count(*) as rows_with_key
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
