"""examples/chat in headless Chromium: two browser tabs on different workers
talk in one room (the front brokers the group between the workers)."""

from __future__ import annotations

from typing import Any

from harness import REPO, Processes


def test_two_browsers_on_two_workers_share_a_room(procs: Processes, browser: Any) -> None:
    front = procs.front(app="examples.chat.app:app", workers=2, app_dir=REPO)
    pages: list[Any] = []
    try:
        ann = open_tab(browser, pages, front.url, "ann")
        first = ann.evaluate("window.chat.worker")
        # the pool sends a new WebSocket to the least busy worker: the next tab
        # (or the one after, if the page's own request shifted the rotation)
        # lands on the other worker
        for n in range(4):
            bob = open_tab(browser, pages, front.url, "bob" if n == 0 else f"bob{n}")
            if bob.evaluate("window.chat.worker") != first:
                break
        assert bob.evaluate("window.chat.worker") != first, "every tab on one worker"
        bob_name = bob.evaluate("new URLSearchParams(location.search).get('name')")
        ann.wait_for_function(f"window.chat.lines.includes('* {bob_name} joined')", timeout=10_000)
        ann.evaluate("window.chat.send('hello from ann')")
        bob.fill("#text", "hi ann, bob here")
        bob.click("button")
        for page in pages:
            page.wait_for_function(
                "window.chat.lines.includes('ann: hello from ann')"
                f" && window.chat.lines.includes('{bob_name}: hi ann, bob here')",
                timeout=10_000,
            )
        assert "ann: hello from ann" in bob.inner_text("#log")
        lines = bob.evaluate("window.chat.lines")
        assert lines.count("ann: hello from ann") == 1, lines  # exactly once
    finally:
        for page in pages:
            page.close()


def open_tab(browser: Any, pages: list[Any], url: str, name: str) -> Any:
    page = browser.new_page()
    pages.append(page)
    page.goto(f"{url}/?room=pagi&name={name}")
    page.wait_for_function("window.chat && window.chat.worker !== null", timeout=10_000)
    page.wait_for_function(f"window.chat.lines.includes('* {name} joined')", timeout=10_000)
    return page
