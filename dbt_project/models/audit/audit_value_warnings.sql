-- Optional values that did not parse (or fell outside their list) and were loaded as null.
{{ config(materialized='incremental', incremental_strategy='append') }}
{{ value_issues('warning') }}
