"""Apps served by every server in the benchmark.

Each module is a plain ASGI 3 application that is also a valid PAGI
application, so pagi and its peers run byte-for-byte the same code. They import
nothing but the standard library (the peers' venv has no pagi). Every app
answers ``GET /`` with a 200 so the harness can probe any of them for
readiness.
"""
