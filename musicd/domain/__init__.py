"""Pure domain: frozen models, ids, tag normalisation. Stdlib and msgspec only."""
