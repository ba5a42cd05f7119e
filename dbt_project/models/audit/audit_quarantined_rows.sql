-- Rows kept out of staging, one row per failing (row, column): a required value missing or
-- unparseable, or a required enumerated value outside its list (raw-extracts.md).
{{ value_issues('quarantine') }}
