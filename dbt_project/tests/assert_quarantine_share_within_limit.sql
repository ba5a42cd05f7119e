-- Fails (and so blocks the publish step) for every entity that lost more than
-- max_quarantined_share of its landed rows to quarantine: one bad row is an ordinary data
-- problem, most of an entity failing means an extract format changed.
with

loaded_files as (

    select * from {{ ref('audit_ingest_ledger') }}
    where status = 'loaded'

),

per_entity as (

    select
        entity,
        sum(rows_read) as rows_read,
        sum(rows_quarantined) as rows_quarantined
    from loaded_files
    group by entity

)

select * from per_entity
where
    rows_read >= {{ var('quarantine_check_min_rows') }}
    and rows_quarantined > {{ var('max_quarantined_share') }} * rows_read
