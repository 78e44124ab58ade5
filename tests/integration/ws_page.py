"""What the WebSocket test page (``ws_e2e_app`` ``/page``) must report after its round trip."""

from __future__ import annotations

from typing import Any


def check_page_result(result: dict[str, Any]) -> None:
    """Two subprotocols offered (the app picks chat.v2), deflate, two texts
    (one astral), one binary message, and the page's close with 4001."""
    assert result["opened"] is True
    assert result["protocol"] == "chat.v2"
    assert result["extensions"].startswith("permessage-deflate")
    assert result["echoes"] == ["hello from the browser", "été ☃ 😀"]
    assert result["binary"] == [0, 1, 2, 250, 255]
    assert result["closeCode"] == 4001
    assert not result.get("error")
