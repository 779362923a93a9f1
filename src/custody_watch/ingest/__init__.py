"""Reading custody records in the interchange format: rows in, detentions or rejections out.

Nothing here raises for a bad row: a row is either read or rejected with a reason that names
the row and the field."""

from custody_watch.ingest.files import read_records_file, read_records_text
from custody_watch.ingest.parse import RowError, parse_row
from custody_watch.ingest.result import ReadResult, Rejection
from custody_watch.ingest.rows import csv_rows, jsonl_rows
from custody_watch.ingest.versions import latest_versions
from custody_watch.sources.base import SourceRow

__all__ = [
    "ReadResult",
    "Rejection",
    "RowError",
    "SourceRow",
    "csv_rows",
    "jsonl_rows",
    "latest_versions",
    "parse_row",
    "read_records_file",
    "read_records_text",
]
