with

ingested_files as (

    select * from {{ source('raw', 'ingested_files') }}

),

quarantined_rows as (

    select * from {{ ref('audit_quarantined_rows') }}

),

quarantined_per_file as (

    select
        entity,
        file_name,
        count(distinct row_number) as rows_quarantined
    from quarantined_rows
    group by entity, file_name

),

final as (

    select
        ingested_files.entity,
        ingested_files.file_name,
        ingested_files.file_path,
        ingested_files.file_hash,
        ingested_files.file_format,
        ingested_files.status,
        ingested_files.reason,
        ingested_files.rows_read,
        ingested_files.rows_read
        - coalesce(quarantined_per_file.rows_quarantined, 0) as rows_loaded,
        coalesce(quarantined_per_file.rows_quarantined, 0) as rows_quarantined,
        ingested_files.extra_columns,
        ingested_files.ingested_at
    from ingested_files
    left join quarantined_per_file
        on
            ingested_files.entity = quarantined_per_file.entity
            and ingested_files.file_name = quarantined_per_file.file_name
            and ingested_files.status = 'loaded'

)

select * from final
