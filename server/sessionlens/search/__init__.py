from sessionlens.search.index import SCHEMA_VERSION, SearchFilters, SearchHit, SearchIndex

__all__ = ["SCHEMA_VERSION", "SearchFilters", "SearchHit", "SearchIndex"]
