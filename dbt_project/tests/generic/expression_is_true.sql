{#- Fails for every row where the expression is not true (the hub's dbt_utils is unreachable
    offline, so the project carries the few generic tests it needs). -#}
{% test expression_is_true(model, column_name, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
