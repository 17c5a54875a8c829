from sessionlens.store.db import (
    FileRow,
    FindingCount,
    NotFound,
    OutlineRow,
    PreparedParse,
    Store,
    StoreError,
    WriterBusy,
    WriterLock,
    local_day,
    prepare_parse,
    session_from_dict,
)
from sessionlens.store.rows import finding_from_row
from sessionlens.store.times import iso, parse_time

__all__ = ["FileRow", "FindingCount", "OutlineRow", "NotFound", "PreparedParse", "Store", "StoreError", "WriterBusy", "WriterLock", "local_day", "prepare_parse",
           "session_from_dict", "finding_from_row", "iso", "parse_time"]
