-- Optional values that did not parse (or fell outside their list) and were loaded as null.
{{ value_issues('warning') }}
