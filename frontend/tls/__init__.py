"""TLS at the front: server contexts, TLS listeners, and the scope's ``tls`` extension.

* :mod:`.contexts` builds the :class:`ssl.SSLContext` every TLS listener
  shares from the ``--ssl-*`` options, and rebuilds it on reload.
* :mod:`.acceptor` accepts on a TLS listener: it tells a TLS ClientHello from
  a plain-HTTP request, bounds the handshake, and hands the finished TLS
  transport to the connection protocol.
* :mod:`.scope_info` turns a finished handshake into the PAGI ``tls`` scope
  extension and the ``https``/``wss`` scheme.

See ``docs/tls.md``.
"""
