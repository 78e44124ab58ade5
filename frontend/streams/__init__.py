"""Scopes as streams: the per-request logic that does not depend on the HTTP version.

Layering (each layer knows only the one below through a ``typing.Protocol``)::

    listener ─► ProtocolSelector ─► protocol connection ─► stream ─► link ─► worker
    (listeners)  (selector.py)       (http1/, websocket/,     (this     (link/)
                                      later http2/)            package)

* A **protocol connection** owns a client socket: it parses the client's
  bytes, enforces the protocol's limits, creates one stream per request and
  implements the stream's writer. It implements
  :class:`~..connections.ClientConnection` (shutdown, abort, what a control
  plane asks) and :class:`~.interfaces.StreamHost` (what a stream asks).
* A **stream** (:class:`~.http_stream.HTTPStream` for ``http``/``sse``,
  :class:`~.ws_stream.WSStream` for ``websocket``) owns one scope's life
  against the worker link (:class:`~..link.handle.LinkHandle`): opening it
  (:func:`~.opening.open_scope`: pick a worker, wait, 503), request data
  within the credit window, the response events, END, worker loss, client
  loss, shutdown, keepalive, the access-log line. It is the link's handler
  for its scope (:mod:`..link.handlers`).

How HTTP/2 plugs in
-------------------

1. **Selection.** :class:`~..selector.ProtocolSelector.__call__` returns a
   :class:`~..http2.switch.ProtocolSwitch`, which hands the transport to the
   HTTP/2 connection on ALPN ``h2`` (TLS) or the prior-knowledge preface
   (cleartext), and to HTTP/1.1 otherwise (``Upgrade: h2c`` is not honoured).
2. **The connection** implements :class:`~..connections.ClientConnection`
   (``protocol = "h2"``, ``current()`` lists its open streams; ``shutdown``
   sends GOAWAY and lets the streams finish, ``abort`` resets them) and
   :class:`~.interfaces.StreamHost` (``ctx``, ``loop``, ``client``,
   ``server``, ``peer``, ``scheme``). It registers in ``ctx.connections``.
3. **Streams.** For each request HEADERS it builds a per-stream writer
   implementing :class:`~.interfaces.HTTPWriter` and creates
   ``HTTPStream(conn, writer, method, target, "2", sse, now)`` then calls
   ``stream.start(raw_path, query, headers, body_mode)``
   (``is_sse_request`` from :mod:`.sse_detect` decides ``sse``); its DATA
   goes to ``stream.send_body`` (see 5), RST_STREAM or the connection's end
   to ``stream.client_gone()``, GOAWAY-style shutdown to ``stream.shutdown()``
   and a hard stop to ``stream.abort(reason)``. For an
   extended CONNECT with ``:protocol websocket`` (RFC 8441) it validates the
   request, builds a :class:`~.interfaces.WSWriter` and creates
   ``WSStream(conn, writer, target, "2", now)`` then ``stream.start(raw_path,
   query, headers, subprotocols, extension_offers)``; the DATA payloads go to
   ``stream.receive(data)``, END_STREAM / RST_STREAM to
   ``stream.client_eof()`` / ``stream.client_gone()``, and the connection's
   end to ``client_lost()``. Frames are encoded and decoded by the stream
   (RFC 6455 framing is the same inside DATA); the writer only carries bytes,
   and ``accept`` answers ``:status 200``.
4. **Writer calls to implement** (``HTTPWriter``): ``respond`` (HEADERS;
   validate the app's headers, drop connection-specific ones; return a reason
   string to make the stream answer 500), ``data(body, final)`` (DATA, with
   END_STREAM when ``final`` and no trailers were announced), ``trailers``
   (HEADERS with END_STREAM), ``reply`` (the front's own complete response),
   ``end`` (bookkeeping: the stream is complete), ``abort`` (RST_STREAM
   INTERNAL_ERROR), ``room``/``open_ended``/``flush``/``send_continue``, and
   ``blocked``/``buffered``.
5. **Flow control maps as follows.** Response direction: set the writer's
   ``paused`` while the stream's HTTP/2 send window (or the connection's) is
   exhausted or the transport is paused, and call ``stream.on_writable()``
   when it opens again; the stream withholds the worker's credit meanwhile,
   so the worker stops after one response window per stream. Request
   direction: hand ``stream.send_body(data, more)`` no more than
   ``stream.window`` bytes (``WSStream.receive`` takes any amount and
   decodes only as far as its window allows, pausing the input: keep what
   arrives while ``input_paused``); keep the rest queued and do not send
   WINDOW_UPDATE for it; when the worker credits, the stream
   calls ``writer.resume_input()``: forward what is queued, then send
   WINDOW_UPDATE for the bytes forwarded. Bytes forwarded are what the
   client may send again, so no process holds more than a window per stream.
"""
