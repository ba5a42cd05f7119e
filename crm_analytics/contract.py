"""The raw extract contract, read from dbt_project.yml (vars.raw_contract), its single copy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    required_when_status: str | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    key: str
    timezone_from: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns a file must have; a file without one is rejected whole."""
        return tuple(c.name for c in self.columns if c.required)


@cache
def entities() -> dict[str, Entity]:
    doc = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    result: dict[str, Entity] = {}
    for name, spec in doc["vars"]["raw_contract"].items():
        columns = tuple(
            Column(
                name=column,
                type=meta["type"],
                required=bool(meta.get("required", False)),
                required_when_status=meta.get("required_when_status"),
                values=tuple(meta["values"]) if meta.get("values") else None,
            )
            for column, meta in spec["columns"].items()
        )
        result[name] = Entity(
            name=name, key=spec["key"], timezone_from=spec["timezone_from"], columns=columns
        )
    return result


ENTITY_NAMES: tuple[str, ...] = (
    "locations",
    "clients",
    "specialists",
    "promotions",
    "appointments",
    "deals",
    "sales",
    "promo_codes",
    "promo_activations",
    "activities",
    "sms_messages",
)
