"""Byte-stable xlsx output with openpyxl.

openpyxl stamps the save time into docProps/core.xml and into every zip entry's header,
so two identical workbooks differ in bytes. Saving through a ZipFile whose entries carry a
fixed time, with the document properties pinned, makes the output a function of content.
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class _FixedTimeZip(zipfile.ZipFile):
    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        # Write-only worksheets are staged in a temp file; stream it rather than load it.
        info = self._info(str(arcname if arcname is not None else filename))
        with open(filename, "rb") as src, self.open(info, "w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


class XlsxSheetWriter:
    """Streams rows into the first sheet of a new workbook (openpyxl write-only mode)."""

    def __init__(self, path: Path, title: str = "Export") -> None:
        self.path = path
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet(title)

    def append(self, cells: list[Any]) -> None:
        self._ws.append(cells)

    def close(self) -> None:
        props = self._wb.properties
        props.creator = "CRM export"
        props.created = FIXED_TIME
        props.modified = FIXED_TIME
        with _FixedTimeZip(self.path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(self._wb, archive).write_data()
