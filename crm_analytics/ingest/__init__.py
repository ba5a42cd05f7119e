"""Landing folder -> raw zone: discover, hash, parse, reject whole files, write Parquet,
keep a ledger, and expose the raw zone to DuckDB as views."""

from .discover import IgnoredPath
from .ledger import LedgerRecord
from .ledger import load_all as ledger_records
from .pending import pending_files
from .run import IngestResult, SchemaDrift, ingest
from .views import write_raw_views

__all__ = [
    "IgnoredPath",
    "IngestResult",
    "LedgerRecord",
    "SchemaDrift",
    "ingest",
    "ledger_records",
    "pending_files",
    "write_raw_views",
]
