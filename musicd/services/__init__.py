"""Use-cases shared by every API; each module holds one concern."""
