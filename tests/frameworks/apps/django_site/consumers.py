"""Channels consumers: a synchronous echo (close on request), and a group chat
room through the channel layer."""

from __future__ import annotations

import json
import os
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer


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


class RoomConsumer(AsyncWebsocketConsumer):
    """A chat room through the channel layer: every text a member sends goes to
    every member of ``room-<name>`` (``/ws/room/<name>/``), as JSON with the
    sender's channel; the first message tells the member its worker pid."""

    async def connect(self) -> None:
        self.group = "room-" + self.scope["url_route"]["kwargs"]["name"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"pid": os.getpid(), "channel": self.channel_name}))

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "room.message", "text": text_data, "from": self.channel_name}
        )

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"text": event["text"], "from": event["from"]}))
