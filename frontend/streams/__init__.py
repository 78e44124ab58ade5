"""Scopes as streams: the per-request logic that does not depend on the HTTP
version (the response exchange, SSE keepalive, file bodies, SSE detection)."""
