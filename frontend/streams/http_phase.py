"""Phases of an ``http``/``sse`` stream, plain ints that only move forward.

:class:`~.http_stream.HTTPStream` ``phase``: :data:`WAITING` < :data:`OPENED`
< :data:`STARTED` < :data:`SENDING` < :data:`APP_DONE` < :data:`DONE`.
``SENDING`` and later: the head went to the writer. ``APP_DONE``: the app's
last response message arrived (a file or the trailers may still be going
out). ``DONE``: the response was handed over completely or abandoned, and the
access line was written (exactly once, on entering ``DONE``).
"""

WAITING, OPENED, STARTED, SENDING, APP_DONE, DONE = range(6)
