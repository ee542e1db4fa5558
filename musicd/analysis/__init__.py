"""Audio analysis adapter: ffmpeg decodes, numpy and scipy measure (tempo, loudness, key, timbre, ...).

`pool.AnalysisPool` runs `analyser.analyse_file` in niced worker processes; nothing here imports
another adapter. Importing this package loads no numpy: the workers do.
"""
