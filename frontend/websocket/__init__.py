"""WebSocket (RFC 6455, permessage-deflate RFC 7692): frame codec, deflate,
handshake checks, keepalive, inbound flow control and the connection that
carries a websocket scope after the upgrade."""
