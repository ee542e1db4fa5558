"""Storage adapter: SQLite (WAL) through aiosqlite. The only place SQL lives."""
