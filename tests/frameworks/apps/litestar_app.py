"""A small Litestar app: typed path/query parameters, validation errors, a
dataclass body, and a WebSocket echo."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar, get, post, websocket_listener


@dataclass
class Order:
    item: str
    quantity: int


@get("/orders/{order_id:int}")
async def get_order(order_id: int, detail: bool = False) -> dict[str, object]:
    return {"order_id": order_id, "detail": detail}


@post("/orders")
async def create_order(data: Order) -> dict[str, object]:
    return {"item": data.item, "total": data.quantity * 3}


@websocket_listener("/ws")
async def echo(data: str) -> str:
    return f"litestar: {data}"


app = Litestar(route_handlers=[get_order, create_order, echo], debug=False)
