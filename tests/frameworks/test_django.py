"""Django under pagi, against uvicorn: a plain ASGI project with the admin
(login with a session and CSRF), and Channels with a WebsocketConsumer
(apps/django_site)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from fw import FRAMEWORK_APPS, Pair, Server, same_response
from harness import PYTHON, Front, Processes
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

_SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import User
User.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")
"""


@pytest.fixture(scope="module")
def db_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite database with a superuser, shared by both servers."""
    db = tmp_path_factory.mktemp("django") / "db.sqlite3"
    env = {"PAGI_TEST_DJANGO_DB": str(db), "DJANGO_SETTINGS_MODULE": "django_site.settings"}
    subprocess.run(
        [PYTHON, "-c", _SETUP],
        cwd=FRAMEWORK_APPS,
        env={**os.environ, **env},
        check=True,
        timeout=120,
    )
    return env


@pytest.fixture(scope="module")
def plain(pair_factory: Callable[..., Pair], db_env: dict[str, str]) -> Pair:
    return pair_factory("django_site.asgi:application", env=db_env)


@pytest.fixture(scope="module")
def with_channels(pair_factory: Callable[..., Pair], db_env: dict[str, str]) -> Pair:
    return pair_factory("django_site.channels_asgi:application", env=db_env)


def test_served_as_an_asgi_app(plain: Pair) -> None:
    plain.pagi.proc.wait_for_log(
        r"serving the app through the ASGI interface \(the app is built on django"
    )


def test_views(plain: Pair) -> None:
    r = same_response(plain, "GET", "/info/?a=1", compare_body=False)
    info = r.json()
    assert info["path"] == "/info/" and info["query"] == {"a": "1"}
    same_response(plain, "GET", "/info")  # CommonMiddleware: 301 to the slash
    assert same_response(plain, "GET", "/stream/").text == "".join(f"line {i}\n" for i in range(5))
    same_response(plain, "GET", "/nowhere/")


def admin_login(server: Server) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=15)
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post(
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": "admin",
            "password": "s3cret-pass",
            "next": "/admin/",
        },
        headers={"referer": server.url + "/admin/login/"},
    )
    assert r.status_code == 302 and r.headers["location"] == "/admin/", r.text[:500]
    return client


def test_admin_login_session_and_csrf(plain: Pair) -> None:
    for server in plain.both():
        anonymous = httpx.get(server.url + "/admin/", timeout=15)
        assert anonymous.status_code == 302
        assert anonymous.headers["location"] == "/admin/login/?next=/admin/"
        client = admin_login(server)
        try:
            home = client.get("/admin/")
            assert home.status_code == 200 and "Site administration" in home.text
            users = client.get("/admin/auth/user/")
            assert users.status_code == 200 and "admin@example.com" in users.text
        finally:
            client.close()
        # no CSRF token: refused the same way
        r = httpx.post(server.url + "/admin/login/", data={"username": "admin"}, timeout=15)
        assert r.status_code == 403


def test_channels_http_and_websocket_consumer(with_channels: Pair) -> None:
    same_response(with_channels, "GET", "/info/?x=1", compare_body=False)
    for server in with_channels.both():
        with connect(f"ws://127.0.0.1:{server.port}/ws/echo/", open_timeout=10) as ws:
            ws.send("hi")
            assert ws.recv(timeout=5) == "channels: hi"
            ws.send(b"\x00\x01")
            assert ws.recv(timeout=5) == b"\x00\x01"
            ws.send("close")
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4002
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{server.port}/ws/echo/?deny=1", open_timeout=10)
        assert refused.value.response.status_code == 403, server.name


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, db_env: dict[str, str]
) -> Iterator[Front]:
    """The Channels site under pagi alone, two workers, pagi's channel layer."""
    procs = Processes(tmp_path_factory.mktemp("fw2"))
    env = {
        **db_env,
        "PAGI_TEST_CHANNEL_LAYER": "pagi.worker.channels.django_layer.PagiChannelLayer",
    }
    try:
        yield procs.front(
            app="django_site.channels_asgi:application", workers=2, app_dir=FRAMEWORK_APPS, env=env
        )
    finally:
        procs.cleanup()


def test_channels_group_send_reaches_consumers_on_every_worker(two_workers: Front) -> None:
    """channel_layer.group_send in a consumer reaches the members on both
    workers (with Channels' in-memory layer, those on the other worker would
    never see it), each message once, in order per sender."""
    url = f"ws://127.0.0.1:{two_workers.port}/ws/room/lobby/"
    with ExitStack() as stack:
        members = [stack.enter_context(connect(url, open_timeout=10)) for _ in range(4)]
        hello = [json.loads(m.recv(timeout=10)) for m in members]
        assert len({h["pid"] for h in hello}) == 2, hello
        for i, member in enumerate(members[:2]):
            for n in range(5):
                member.send(f"{i}:{n}")
        for member in members:
            got = [json.loads(member.recv(timeout=10)) for _ in range(10)]
            for i in range(2):
                texts = [g["text"] for g in got if g["from"] == hello[i]["channel"]]
                assert texts == [f"{i}:{n}" for n in range(5)], got
            with pytest.raises(TimeoutError):
                member.recv(timeout=0.3)
        # a member that leaves is out of the group at once; the others go on
        members[3].close()
        members[0].send("after")
        for member in members[:3]:
            assert json.loads(member.recv(timeout=10))["text"] == "after"
