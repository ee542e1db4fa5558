"""Prometheus metrics of the process, in one registry (no global state shared between test apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        # Recommendations (issue 15): model builds and what the current model was trained on.
        self.recommend_builds = Counter("musicd_recommend_builds", "Model builds, by outcome", ["outcome"],
                                        registry=r)
        self.recommend_build_seconds = Gauge("musicd_recommend_build_seconds", "Wall seconds of the last build",
                                             registry=r)
        self.recommend_listens = Gauge("musicd_recommend_model_listens", "Listens the current model was trained on",
                                       registry=r)
        self.play_events = Counter("musicd_play_events", "Play events written to the database", registry=r)
        self.plays_recorded = Counter("musicd_plays", "Plays stored in the listening history", registry=r)
        self.play_events_queue = Gauge("musicd_play_events_queue", "Play events waiting for the writer", registry=r)
