"""Prometheus metrics of federation, read at scrape time from what the federation parts keep in memory."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from musicd.services.fed_media import PeerTrackSource
from musicd.services.fed_search import FedIndex
from musicd.services.fed_sync import MirrorSync
from musicd.services.federation import FederationService

__all__ = ["FederationCollector"]


class FederationCollector(Collector):
    def __init__(self, fed: FederationService, sync: MirrorSync, media: PeerTrackSource, index: FedIndex) -> None:
        self.fed, self.sync, self.media, self.index = fed, sync, media, index

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        peers = GaugeMetricFamily("musicd_federation_peers", "Paired servers by state", labels=["state"])
        counts: dict[str, int] = {"available": 0, "unavailable": 0, "pending": 0, "revoked": 0}
        tracks = 0
        for p in self.sync.peers_seen.values():
            state = p.status if p.status != "active" else ("available" if self.fed.available(p) else "unavailable")
            counts[state] = counts.get(state, 0) + 1
            tracks += p.track_count
        for state, n in counts.items():
            peers.add_metric([state], n)
        yield peers
        yield GaugeMetricFamily("musicd_federation_mirrored_tracks", "Tracks mirrored from peers", value=tracks)
        yield GaugeMetricFamily("musicd_federation_index_docs", "Documents in the federated search index",
                                value=self.index.docs)
        yield CounterMetricFamily("musicd_federation_streams_relayed", "Friends' tracks relayed from their server",
                                  value=self.media.relayed)
        yield CounterMetricFamily("musicd_federation_stream_cache_hits", "Friends' tracks served from the cache",
                                  value=self.media.cache_hits)
        refused = CounterMetricFamily("musicd_federation_requests_refused", "Peers' requests refused, by code",
                                      labels=["code"])
        for code, n in sorted(self.fed.refused.items()):
            refused.add_metric([code], n)
        yield refused
