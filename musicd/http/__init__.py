"""HTTP layer: Litestar controllers for /v1, /rest, /ws, /fed and the web UI. No SQL, no tags, no ffmpeg."""
