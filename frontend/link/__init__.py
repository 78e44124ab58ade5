"""The front's side of the worker link: one :class:`WorkerLink` per worker
process (framing and fd passing in ``io``, the HELLO/WELCOME handshake, the
per-scope state in ``scope`` / ``ws_scope``) and the pool that picks a worker."""
