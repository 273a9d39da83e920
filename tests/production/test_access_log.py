"""What gunicorn's access log keeps, and which hosts the production server answers, from outside."""

import http.client
import time

import pytest

from .conftest import sqlite_copy
from .web import BASE_URL, SLUG, Servers, Visitor, app_environment

pytestmark = pytest.mark.production

TOKEN = "MTIzNDU2Nzg5.ZXhhbXBsZQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory):
    """One production server on a SQLite copy, for the whole module."""
    directory = tmp_path_factory.mktemp("access-log")
    servers = Servers(directory)
    try:
        with sqlite_copy(sqlite_template, directory) as database:
            [started] = servers.start(app_environment(database.url))
            yield started
    finally:
        servers.stop_all()


def raw_get(server, path: str, host: str, **headers) -> int:
    """GET ``path`` with the ``Host`` and other headers given; the status."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host, "User-Agent": "access-log-test", **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def access_lines(server, marker: str, timeout: float = 10) -> list[str]:
    """The access log's lines holding ``marker``, once there is one: a worker writes its line
    after the response has gone out."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in server.log().splitlines() if marker in line and '" ' in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.parametrize("link", ["confirm", "withdraw", "unsubscribe"])
def test_access_log_keeps_no_token_no_address_and_no_referer(server, link):
    host = BASE_URL.split("//", 1)[1]
    referer = f"{BASE_URL}/confirm/{TOKEN}-referer"
    status = raw_get(server, f"/{link}/{TOKEN}?lang=es", host, Referer=referer)
    assert status == 404  # a token that was never issued

    [line] = access_lines(server, f"/{link}/")
    assert f'"GET /{link}/[token] HTTP/1.1" 404 ' in line
    assert TOKEN not in line and "lang=es" not in line
    assert "127.0.0.1" not in line and "referer" not in line.lower()


def test_access_log_keeps_no_hint_of_the_signers_address(server):
    host = BASE_URL.split("//", 1)[1]
    assert raw_get(server, f"/p/{SLUG}/check-email?to={TOKEN}", host) == 200
    [line] = access_lines(server, "/check-email")
    assert f'"GET /p/{SLUG}/check-email HTTP/1.1" 200 ' in line
    assert TOKEN not in line


def test_access_log_keeps_other_addresses_whole(server):
    assert Visitor(server).get(f"/p/{SLUG}?source=whatsapp").status == 200
    [line] = access_lines(server, "source=whatsapp")
    assert f'"GET /p/{SLUG}?source=whatsapp HTTP/1.1" 200 ' in line
    assert "127.0.0.1" not in line


def test_production_server_answers_its_own_host_only(server):
    assert raw_get(server, "/healthz", "sign.example.org") == 200
    assert raw_get(server, "/healthz", "evil.example") == 400
    assert raw_get(server, f"/p/{SLUG}", f"127.0.0.1:{server.port}") == 400
