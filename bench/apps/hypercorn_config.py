"""hypercorn's configuration in the bench (``--config python:bench.apps.hypercorn_config``).

hypercorn closes a connection after 1,000 requests by default
(``keep_alive_max_requests``). wrk reconnects, h2load does not: workload 10
(16 connections x 200,000 requests) would then fail all but 16,000 of its
requests. The cap is lifted so every server answers the same load.
"""

keep_alive_max_requests = 1_000_000_000
