-- Rows kept out of staging, one row per failing (row, column): a required value missing or
-- unparseable, or a required enumerated value outside its list (raw-extracts.md).
{{ config(materialized='incremental', incremental_strategy='append') }}
{{ value_issues('quarantine') }}
