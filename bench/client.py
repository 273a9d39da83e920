"""A small HTTP client for the steps a browser would take: get a form, log in, download."""

import http.client
import re
import time
import urllib.parse

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 60


def request(port: int, method: str, path: str, form: dict | None = None, cookie: str = ""):
    """One request to 127.0.0.1:``port``; returns (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def session_cookie(headers) -> str:
    """The ``session=...`` pair from a response's Set-Cookie headers ('' if none)."""
    for header in headers.get_all("Set-Cookie") or ():
        pair = header.split(";", 1)[0]
        if pair.startswith("session="):
            return pair
    return ""


def form_session(port: int, path: str, cookie: str = "") -> tuple[str, str]:
    """The session cookie and CSRF token a visitor gets from the form page at ``path``."""
    status, headers, body = request(port, "GET", path, cookie=cookie)
    match = TOKEN.search(body)
    if status != 200 or match is None:
        raise RuntimeError(f"GET {path}: {status}, no csrf_token in the page")
    return session_cookie(headers) or cookie, match.group(1)


def log_in(port: int, email: str, password: str) -> str:
    """Log in as an organizer the way the login form does; return the session cookie."""
    cookie, token = form_session(port, "/admin/login")
    form = {"csrf_token": token, "email": email, "password": password}
    status, headers, _body = request(port, "POST", "/admin/login", form=form, cookie=cookie)
    if status not in (302, 303):
        raise RuntimeError(f"organizer login failed: {status}")
    return session_cookie(headers) or cookie


def timed_download(port: int, path: str, cookie: str) -> dict:
    """GET ``path`` to the end: status, seconds to the first body byte and to the last, size, lines."""
    result = {"status": 0, "first_byte_s": None, "bytes": 0, "lines": 0, "complete": False}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    started = time.monotonic()
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        result["status"] = response.status
        chunk = response.read1(65536)
        result["first_byte_s"] = round(time.monotonic() - started, 3)
        while chunk:
            result["bytes"] += len(chunk)
            result["lines"] += chunk.count(b"\n")
            chunk = response.read1(1 << 20)
        result["complete"] = True
    except (http.client.HTTPException, OSError, ValueError) as error:
        # A worker killed mid-stream (gunicorn's timeout, say) ends the body early.
        result["error"] = repr(error)
    finally:
        connection.close()
    result["total_s"] = round(time.monotonic() - started, 3)
    return result
