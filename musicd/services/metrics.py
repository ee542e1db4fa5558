"""Prometheus metrics of the process, in one registry (no global state shared between test apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.catalog = Gauge("musicd_catalog_items", "Items in the catalogue", ["kind"], registry=r)
        self.scan_running = Gauge("musicd_scan_running", "1 while a library scan runs", registry=r)
        self.scan_progress = Gauge("musicd_scan_files_done", "Files read by the running scan", registry=r)
        self.scan_total = Gauge("musicd_scan_files_to_read", "Files the running scan has to read", registry=r)
        self.scan_last_seconds = Gauge("musicd_scan_last_duration_seconds", "Wall time of the last scan", registry=r)
        self.scan_files = Counter("musicd_scan_files", "Files seen by scans, by outcome", ["outcome"], registry=r)
        self.http_requests = Counter(
            "musicd_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.http_latency = Histogram(
            "musicd_http_request_seconds", "HTTP request latency until the response starts", ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10), registry=r,
        )
        self.tasks = Gauge("musicd_background_tasks", "Background tasks owned by the app", ["name"], registry=r)
        # Playback: tier cache, transcodes, play events.
        self.transcode_queue = Gauge(
            "musicd_transcode_queue", "(track, tier) pairs the background transcoder still has to make", registry=r
        )
        self.transcode_done = Counter(
            "musicd_transcodes", "Transcodes finished, by kind (background/live) and outcome", ["kind", "outcome"],
            registry=r,
        )
        self.transcode_active = Gauge("musicd_transcodes_running", "ffmpeg transcodes running now", registry=r)
        self.transcode_cache_bytes = Gauge("musicd_transcode_cache_bytes", "Bytes in the tier cache", registry=r)
        self.transcode_cache_files = Gauge("musicd_transcode_cache_files", "Files in the tier cache", registry=r)
        self.transcode_cache_requests = Counter(
            "musicd_transcode_cache_requests", "Tier requests by cache result (hit/miss/joined)", ["result"],
            registry=r,
        )
        # Audio analysis (issue 15): tracks by state, the running pass's queue, results as they are made.
        self.analysis_tracks = Gauge(
            "musicd_analysis_tracks", "Tracks by analysis state (ok/silent/failed/pending)", ["state"], registry=r
        )
        self.analysis_queue = Gauge("musicd_analysis_queue", "Tracks the running analysis pass has left", registry=r)
        self.analyses = Counter("musicd_analyses", "Tracks analysed, by outcome", ["outcome"], registry=r)
        self.analysis_cpu = Counter("musicd_analysis_cpu_seconds", "CPU seconds spent analysing", registry=r)
        self.play_events = Counter("musicd_play_events", "Play events written to the database", registry=r)
        self.playlist_rows_written = Counter(
            "musicd_playlist_entry_writes", "Playlist entry rows inserted, moved or deleted by edits", registry=r)
        self.plays_recorded = Counter("musicd_plays", "Plays stored in the listening history", registry=r)
        self.play_events_queue = Gauge("musicd_play_events_queue", "Play events waiting for the writer", registry=r)
        # The event bus and the realtime channel (GET /v1/realtime).
        self.bus_queue_depth = Gauge("musicd_bus_queue_depth", "Events waiting per bus subscriber", ["subscriber"],
                                     registry=r)
        self.bus_overflows = Gauge("musicd_bus_overflows", "Times a bus subscriber's queue overflowed (resync)",
                                   ["subscriber"], registry=r)
        self.realtime_connections = Gauge("musicd_realtime_connections", "Open realtime connections", registry=r)
        self.realtime_streams = Gauge("musicd_realtime_streams", "Users with a realtime stream (seq and history)",
                                      registry=r)
        self.realtime_history = Gauge("musicd_realtime_history_events", "Events kept for resume, all users",
                                      registry=r)
        self.realtime_queue_depth = Gauge("musicd_realtime_queue_depth",
                                          "Messages waiting in the fullest connection's send queue", registry=r)
        self.realtime_queued = Gauge("musicd_realtime_queued_messages", "Messages waiting in all send queues",
                                     registry=r)
        self.realtime_queued_bytes = Gauge("musicd_realtime_queued_bytes", "Bytes waiting in all send queues",
                                           registry=r)
        self.realtime_messages = Counter("musicd_realtime_messages", "Realtime messages queued, by type", ["type"],
                                         registry=r)
        self.realtime_sent = Counter("musicd_realtime_messages_sent", "Realtime messages written to sockets",
                                     registry=r)
        self.realtime_resyncs = Counter("musicd_realtime_resyncs", "resync_required sent, by reason", ["reason"],
                                        registry=r)
        self.realtime_closes = Counter("musicd_realtime_closes", "Connections closed by the server, by reason",
                                       ["reason"], registry=r)
        ProcessCollector(registry=r)  # process_resident_memory_bytes & co.
        # Storage health and backups.
        self.disk_free = Gauge("musicd_data_disk_free_bytes", "Free bytes on the data dir's disk", registry=r)
        self.storage_ok = Gauge("musicd_storage_healthy", "1 when the database and its disk take writes", registry=r)
        self.backups = Counter("musicd_backups", "Automatic backups, by outcome (ok/failed)", ["outcome"], registry=r)
        for outcome in ("ok", "failed"):  # both series exist from the start, so an alert on `failed` can fire
            self.backups.labels(outcome)
        self.backup_last_success = Gauge(
            "musicd_backup_last_success_timestamp_seconds", "When the last automatic backup was made", registry=r
        )
        self.backup_last_bytes = Gauge("musicd_backup_last_size_bytes", "Size of the last backup", registry=r)
        self.backup_last_seconds = Gauge(
            "musicd_backup_last_duration_seconds", "Wall time of the last backup", registry=r
        )
        self.backups_kept = Gauge("musicd_backups_kept", "Automatic backups in the backup folder", registry=r)
