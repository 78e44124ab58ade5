"""The same fan-out bench app as ``channels_pagi.py``, as Django Channels
consumers on the channel layer named by ``PAGI_BENCH_LAYER``
(``channels_redis.core.RedisChannelLayer`` with ``PAGI_BENCH_REDIS``, or
pagi's ``PagiChannelLayer``)."""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

if not settings.configured:
    layer: dict[str, Any] = {"BACKEND": os.environ["PAGI_BENCH_LAYER"]}
    if "channels_redis" in layer["BACKEND"]:
        layer["CONFIG"] = {"hosts": [os.environ["PAGI_BENCH_REDIS"]], "capacity": 1000}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": layer},
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path


class Sub(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add("bench", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard("bench", self.channel_name)

    async def m(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["t"])


class Pub(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send("bench", {"type": "m", "t": text_data})


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("sub", Sub.as_asgi()), path("pub", Pub.as_asgi())])}
)
