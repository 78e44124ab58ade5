"""``pagi-front`` with its per-request counting stubbed out (bench server ``pagi-1w-nocount``).

Only for measuring what counting costs on the hot path (docs/operations.md,
"Metrics"): :meth:`FrontMetrics.request_done` — the one call every finished
request makes into the counters — becomes a no-op before the front starts;
everything else, the command line included, is ``pagi-front``'s.
"""

from __future__ import annotations

from pagi.frontend import cli, metrics


def _not_counted(
    self: metrics.FrontMetrics,
    scope_type: str,
    status: int | None,
    duration: float,
    body_bytes: int,
) -> None:
    return None


if __name__ == "__main__":
    metrics.FrontMetrics.request_done = _not_counted  # type: ignore[method-assign]
    cli.main()
