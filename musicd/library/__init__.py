"""Library adapter: walk folders, read tags (mutagen), covers and lyrics."""
