"""Matching a file's header against the entity's contract columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from crm_analytics.contract import Entity

from .errors import Rejected

SOURCE_FILE = "_source_file"
ROW_NUMBER = "_row_number"
INGESTED_AT = "_ingested_at"
# The column DuckDB adds with read_parquet(filename=...) in the raw views.
PARQUET_FILE = "__raw_parquet_file"
METADATA_COLUMNS = (SOURCE_FILE, ROW_NUMBER, INGESTED_AT)
# A file column with one of these names would collide with what ingestion adds.
RESERVED_COLUMNS = frozenset((*METADATA_COLUMNS, PARQUET_FILE))


@lru_cache(maxsize=4096)
def normalise_header(name: str) -> str:
    # cached: JSON Lines files repeat the same keys on every line
    return name.strip().lower()


@dataclass(frozen=True)
class ColumnPlan:
    """Where each output column comes from in the positional source batches."""

    columns: tuple[str, ...]  # normalised names in file order (unnamed ones left out)
    extra_columns: tuple[str, ...]  # not in the contract, file order: schema drift
    contract_columns: tuple[str, ...]
    position: dict[str, int]  # normalised name -> position in the source header
    # Columns with an empty header: tolerated (exports often end rows with a stray
    # separator) as long as they never hold a value.
    unnamed_positions: tuple[int, ...]

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (*self.contract_columns, *self.extra_columns)


def plan_columns(entity: Entity, header: Sequence[str]) -> ColumnPlan:
    names = [normalise_header(h) for h in header]
    position: dict[str, int] = {}
    unnamed: list[int] = []
    for i, name in enumerate(names):
        if name == "":
            unnamed.append(i)
            continue
        if name in position:
            raise Rejected(
                f"duplicate column {name!r} (columns {position[name] + 1} and {i + 1})",
                columns=tuple(n for n in names if n),
            )
        position[name] = i
    columns = tuple(position)
    if not columns:
        raise Rejected("the header row is empty")
    reserved = sorted(RESERVED_COLUMNS.intersection(columns))
    if reserved:
        raise Rejected(
            f"column name reserved for ingestion metadata: {', '.join(reserved)}",
            columns=columns,
        )
    missing = [c for c in entity.required_columns if c not in position]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        raise Rejected(f"missing required {label}: {', '.join(missing)}", columns=columns)
    known = set(entity.column_names)
    return ColumnPlan(
        columns=columns,
        extra_columns=tuple(c for c in columns if c not in known),
        contract_columns=entity.column_names,
        position=position,
        unnamed_positions=tuple(unnamed),
    )
