"""One streamed pass over a landed file: its sha256 and, for text formats, UTF-8 validity.

Checking UTF-8 in the same pass as hashing costs no extra read, and lets readers report
"not valid UTF-8 (line N)" instead of whatever a parser makes of UTF-16 or Latin-1 bytes.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 4 << 20


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int
    # 1-based line of the first invalid UTF-8 byte; None when valid or not checked.
    bad_utf8_line: int | None = None


def digest_file(path: Path, *, check_utf8: bool) -> FileDigest:
    sha = hashlib.sha256()
    size = 0
    newlines = 0  # in bytes already validated, to turn a bad byte's offset into a line
    pending = b""  # an incomplete multi-byte sequence carried to the next chunk
    bad_line: int | None = None
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            if not check_utf8 or bad_line is not None:
                continue
            data = pending + chunk
            try:
                _, consumed = codecs.utf_8_decode(data, "strict", False)
            except UnicodeDecodeError as e:
                bad_line = newlines + data.count(b"\n", 0, e.start) + 1
                continue
            newlines += data.count(b"\n", 0, consumed)
            pending = data[consumed:]
    if check_utf8 and bad_line is None and pending:
        # The file ends inside a multi-byte sequence.
        bad_line = newlines + 1
    return FileDigest(sha.hexdigest(), size, bad_line)
