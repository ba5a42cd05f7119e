"""The raw zone: `raw/<entity>/<sha256>.parquet`, one file per ingested content.

Columns: every contract column (string, null when the file lacks it), the file's extra
columns, then `_source_file`, `_row_number` (int64, 1-based among data records) and
`_ingested_at` (timestamp UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crm_analytics.contract import Entity

from .atomic import atomic_path
from .columns import INGESTED_AT, ROW_NUMBER, SOURCE_FILE, ColumnPlan, plan_columns
from .csv_reader import BlockTooSmall
from .discover import LandedFile
from .errors import Rejected
from .readers import open_source

# Row groups of a fixed row count, cut independently of reader batch sizes, so the same
# input always gives the same bytes; about DuckDB's own row group size.
ROW_GROUP_ROWS = 131_072
CSV_BLOCK_SIZE = 2 << 20
# One record (a quoted field) may exceed a block; retry with bigger blocks up to this.
CSV_MAX_BLOCK_SIZE = 1 << 30
TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")


def parquet_relpath(entity: str, file_hash: str) -> str:
    return f"raw/{entity}/{file_hash}.parquet"


def output_schema(plan: ColumnPlan) -> pa.Schema:
    return pa.schema(
        [pa.field(name, pa.string()) for name in plan.output_columns]
        + [
            pa.field(SOURCE_FILE, pa.string()),
            pa.field(ROW_NUMBER, pa.int64()),
            pa.field(INGESTED_AT, TIMESTAMP_UTC),
        ]
    )


@dataclass(frozen=True)
class Parsed:
    columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    rows: int


def ingest_file(
    entity: Entity,
    landed: LandedFile,
    dest: Path,
    *,
    bad_utf8_line: int | None,
    ingested_at: datetime,
) -> Parsed:
    """Parse a landed file into `dest` (atomically). Raises Rejected; writes nothing then."""
    block = CSV_BLOCK_SIZE
    while True:
        plan: ColumnPlan | None = None
        try:
            source = open_source(
                landed.path,
                landed.format,
                bad_utf8_line=bad_utf8_line,
                csv_block_size=block,
                timestamp_columns=frozenset(
                    c.name for c in entity.columns if c.type == "timestamp"
                ),
            )
            plan = plan_columns(entity, source.header)
            rows = _write(dest, plan, source.batches(), landed.name, ingested_at)
        except BlockTooSmall:
            if block >= CSV_MAX_BLOCK_SIZE:
                raise Rejected("a single record is larger than 1 GiB") from None
            block *= 4
            continue
        except Rejected as e:
            if plan is not None and not e.columns:
                raise Rejected(e.reason, columns=plan.columns) from None
            raise
        return Parsed(plan.columns, plan.extra_columns, rows)


def _write(
    dest: Path,
    plan: ColumnPlan,
    batches: Iterable[list[pa.Array]],
    source_file: str,
    ingested_at: datetime,
) -> int:
    schema = output_schema(plan)
    source_name = pa.scalar(source_file, pa.string())
    stamp = pa.scalar(ingested_at, TIMESTAMP_UTC)
    rows = 0
    pending: list[pa.Table] = []
    pending_rows = 0
    with atomic_path(dest) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for arrays in batches:
            n = len(arrays[0]) if arrays else 0
            if n == 0:
                continue
            _check_unnamed_empty(plan, arrays, rows)
            columns = [
                arrays[plan.position[name]] if name in plan.position else pa.nulls(n, pa.string())
                for name in plan.output_columns
            ]
            columns += [
                pa.repeat(source_name, n),
                pa.arange(rows + 1, rows + n + 1),
                pa.repeat(stamp, n),
            ]
            pending.append(pa.Table.from_arrays(columns, schema=schema))
            pending_rows += n
            rows += n
            if pending_rows >= ROW_GROUP_ROWS:
                table = pa.concat_tables(pending)
                full = pending_rows - pending_rows % ROW_GROUP_ROWS
                writer.write_table(table.slice(0, full), row_group_size=ROW_GROUP_ROWS)
                pending = [table.slice(full)]
                pending_rows -= full
        if pending_rows:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
    return rows


def _check_unnamed_empty(plan: ColumnPlan, arrays: list[pa.Array], offset: int) -> None:
    for pos in plan.unnamed_positions:
        arr = arrays[pos]
        has_value = pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False)
        first = pc.index(has_value, True).as_py()
        if first >= 0:
            raise Rejected(
                f"column {pos + 1} has no header but row {offset + first + 1} has a value in it"
            )


def parquet_rows(path: Path) -> int:
    return pq.read_metadata(path).num_rows
