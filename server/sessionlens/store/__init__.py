from sessionlens.store.db import (
    FileRow,
    PreparedParse,
    Store,
    StoreError,
    WriterBusy,
    WriterLock,
    local_day,
    prepare_parse,
    session_from_dict,
)

__all__ = ["FileRow", "PreparedParse", "Store", "StoreError", "WriterBusy", "WriterLock", "local_day", "prepare_parse",
           "session_from_dict"]
