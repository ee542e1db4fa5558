"""Search adapter: the Tantivy index (the only tantivy importer)."""
