"""What a generator run produced, per entity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crm_analytics.contract import ENTITY_NAMES


@dataclass
class EntityCount:
    files: int = 0
    rows: int = 0
    bytes: int = 0


@dataclass
class GenerateSummary:
    out_dir: Path
    seconds: float = 0.0  # informational; not part of the files
    entities: dict[str, EntityCount] = field(
        default_factory=lambda: {name: EntityCount() for name in ENTITY_NAMES}
    )

    def add(self, entity: str, rows: int, size: int) -> None:
        count = self.entities[entity]
        count.files += 1
        count.rows += rows
        count.bytes += size

    @property
    def total_files(self) -> int:
        return sum(c.files for c in self.entities.values())

    @property
    def total_rows(self) -> int:
        return sum(c.rows for c in self.entities.values())

    @property
    def total_bytes(self) -> int:
        return sum(c.bytes for c in self.entities.values())

    def __str__(self) -> str:
        lines = [f"{'entity':<18} {'files':>6} {'rows':>10} {'bytes':>12}"]
        for name, c in self.entities.items():
            lines.append(f"{name:<18} {c.files:>6} {c.rows:>10} {c.bytes:>12}")
        lines.append(
            f"{'total':<18} {self.total_files:>6} {self.total_rows:>10} {self.total_bytes:>12}"
        )
        lines.append(f"written to {self.out_dir} in {self.seconds:.1f}s")
        return "\n".join(lines)
