"""Developer tools (test and demo fixtures); not used by the running server."""
