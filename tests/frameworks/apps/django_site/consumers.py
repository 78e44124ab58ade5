"""A Channels WebsocketConsumer (synchronous): echo, and close on request."""

from __future__ import annotations

from channels.generic.websocket import WebsocketConsumer


class EchoConsumer(WebsocketConsumer):
    def connect(self) -> None:
        if self.scope["query_string"] == b"deny=1":
            self.close()  # refused before accept: a 403 (ASGI)
            return
        self.accept()

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "close":
            self.close(code=4002)
        elif text_data is not None:
            self.send(text_data=f"channels: {text_data}")
        else:
            self.send(bytes_data=bytes_data)
