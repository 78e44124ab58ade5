"""Prometheus exposition of the front's counters (``prometheus_client``).

``prometheus_client`` is an optional dependency (``pip install 'pagi-server[metrics]'``):
the core imports nothing from it, and :func:`load_exporter` names the extra
when it is missing. The collector is custom: on each scrape it reads the
plain-integer counters of :class:`~.metrics.FrontMetrics` and computes the
gauges from the pool and the connection set, so counting on the request path
never touches ``prometheus_client``.

Metric reference (all prefixed ``pagi_``) is in ``docs/operations.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .control_view import connections_by_protocol
from .metrics import LATENCY_BOUNDS, FrontMetrics

if TYPE_CHECKING:
    from .connections import ClientConnection
    from .link.pool import WorkerPool


class MetricsUnavailable(Exception):
    """prometheus_client is not installed; the message says how to get it."""


MISSING = (
    "metrics need the prometheus_client package: pip install 'pagi-server[metrics]' "
    "(or pip install prometheus_client)"
)


@dataclass(slots=True)
class MetricsSource:
    """Where the collector reads from (all read at scrape time)."""

    metrics: FrontMetrics
    pool: WorkerPool
    connections: Callable[[], Iterable[ClientConnection]]


def _families(source: MetricsSource) -> Iterator[Any]:
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    m = source.metrics
    requests = CounterMetricFamily(
        "pagi_requests",
        "Finished requests by scope type and status class.",
        labels=["scope", "status"],
    )
    for scope, counts in m.requests.items():
        for cls, n in enumerate(counts):
            requests.add_metric([scope, "none" if cls == 0 else f"{cls}xx"], n)
    yield requests

    cumulative: list[tuple[str, float]] = []
    running = 0
    for bound, n in zip(LATENCY_BOUNDS, m.latency_buckets, strict=False):
        running += n
        cumulative.append((repr(bound), running))
    cumulative.append(("+Inf", m.latency_count))
    yield HistogramMetricFamily(
        "pagi_request_duration_seconds",
        "Time from the parsed request head to the last response byte.",
        buckets=cumulative,
        sum_value=m.latency_sum,
    )

    links = source.pool.links
    yield GaugeMetricFamily(
        "pagi_requests_in_flight",
        "Scopes open on workers.",
        value=sum(link.open_scopes for link in links),
    )
    by_protocol = GaugeMetricFamily(
        "pagi_connections", "Open client connections by protocol.", labels=["protocol"]
    )
    for protocol, n in sorted(connections_by_protocol(source.connections()).items()):
        by_protocol.add_metric([protocol], n)
    yield by_protocol
    yield CounterMetricFamily(
        "pagi_connections_accepted", "Client connections accepted.", value=m.connections_accepted
    )

    states = GaugeMetricFamily("pagi_workers", "Connected workers by state.", labels=["state"])
    draining = sum(1 for link in links if link.draining)
    states.add_metric(["ready"], len(links) - draining)
    states.add_metric(["draining"], draining)
    yield states

    queued = GaugeMetricFamily(
        "pagi_link_queued_bytes", "Bytes queued to a worker, not yet written.", labels=["worker"]
    )
    credit = GaugeMetricFamily(
        "pagi_link_response_credit_bytes",
        "Response bytes a worker may still send (sum of its scopes' windows).",
        labels=["worker"],
    )
    for link in links:
        queued.add_metric([str(link.worker_id)], link.queued_bytes)
        credit.add_metric([str(link.worker_id)], link.response_credit)
    yield queued
    yield credit

    yield CounterMetricFamily(
        "pagi_response_body_bytes", "Response body bytes sent to clients.", value=m.bytes_sent
    )
    yield CounterMetricFamily("pagi_reloads", "Rolling reloads completed.", value=m.reloads)
    yield CounterMetricFamily(
        "pagi_reload_failures", "Rolling reloads aborted.", value=m.reload_failures
    )
    yield CounterMetricFamily(
        "pagi_worker_respawns", "Embedded workers restarted after an exit.", value=m.respawns
    )
    yield CounterMetricFamily(
        "pagi_worker_timeouts",
        "Workers that stopped answering heartbeats.",
        value=m.worker_timeouts,
    )
    shed = CounterMetricFamily(
        "pagi_shed_requests", "Requests answered 503 without a worker.", labels=["reason"]
    )
    for reason, n in m.shed.items():
        shed.add_metric([reason], n)
    yield shed


class Exporter:
    """Renders the exposition for one front."""

    def __init__(self, source: MetricsSource) -> None:
        from prometheus_client import CollectorRegistry

        self._source = source
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self)

    def collect(self) -> Iterator[Any]:
        """prometheus_client's collector interface."""
        return _families(self._source)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self._registry), CONTENT_TYPE_LATEST


def load_exporter(source: MetricsSource) -> Exporter:
    """An :class:`Exporter`, or :class:`MetricsUnavailable` naming the extra."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise MetricsUnavailable(MISSING) from None
    return Exporter(source)
