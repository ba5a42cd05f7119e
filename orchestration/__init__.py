"""Dagster definitions of the pipeline: ingest -> dbt build -> publish -> report files."""
