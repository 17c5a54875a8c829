"""Format versions that more than one layer compares, kept apart from the modules that use them so
that reading one (a store opening, every CLI read command) imports no parser and no pydantic model.
"""

from __future__ import annotations

#: bump when the edits rows built from the same events change (the store rebuilds its edits from its
#: events); owned by :mod:`sessionlens.ingest.edits`, compared by :mod:`sessionlens.store.edits`.
EDITS_VERSION = 2
