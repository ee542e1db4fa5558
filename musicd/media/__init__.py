"""Media adapter: ffmpeg tiers, transcode cache, range and ETag helpers."""
