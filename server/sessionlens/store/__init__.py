from sessionlens.store.db import FileRow, Store, StoreError, WriterBusy, WriterLock, local_day, session_from_dict

__all__ = ["FileRow", "Store", "StoreError", "WriterBusy", "WriterLock", "local_day", "session_from_dict"]
