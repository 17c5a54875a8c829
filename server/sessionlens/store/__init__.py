from sessionlens.store.db import (
    CoachInput,
    FileRow,
    FindingCount,
    FindingTotal,
    NotFound,
    OutlineRow,
    PreparedParse,
    SearchContext,
    SearchOp,
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

__all__ = ["CoachInput", "FileRow", "FindingCount", "FindingTotal", "OutlineRow", "SearchContext", "SearchOp", "NotFound", "PreparedParse", "Store", "StoreError", "WriterBusy", "WriterLock", "local_day", "prepare_parse",
           "session_from_dict", "finding_from_row", "iso", "parse_time"]
