"""The real thing, from outside: gunicorn serving ``wsgi:app`` in subprocesses, the command line
that prepares a database, and visitors that speak HTTP the way a browser does (a cookie jar,
the sign form's hidden inputs sent back, redirects not followed)."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import create_engine, text

from petition.config import ENV_KEYS, Config
from tests.conftest import free_port, hidden_inputs, valid_fields

# The interpreter running pytest is the checkout's virtualenv: its bin/ holds gunicorn and flask.
VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
SLUG = "solidarity-with-the-peruvian-people"
SECRET_KEY = "production-tests-" + "k" * 40
# The site's public origin: production refuses to start without one, and answers only its host.
BASE_URL = "https://sign.example.org"
REDIS_URL = "redis://127.0.0.1:6379"
BOOT_SECONDS = 60
REQUEST_SECONDS = 60
# What the app or gunicorn read from the environment: never inherited from the shell running pytest.
APP_VARIABLES = (
    *ENV_KEYS,
    "TEST_DATABASE_URL",
    "WEB_CONCURRENCY",
    "HOST",
    "PORT",
    "LOG_LEVEL",
    "FORWARDED_ALLOW_IPS",
)
ACCESS_LOG_STATUS = re.compile(r'^"[A-Z]+ [^"]*" (\d{3}) ', re.MULTILINE)


def answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def app_environment(database_url: str, **overrides: str) -> dict:
    """The environment of a production instance on ``database_url``: a real secret, its public
    origin, Redis for rate limits (off unless asked for) under a key prefix of its own, and an
    SMTP server that is not there, so every email stays in the outbox."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in APP_VARIABLES and not key.startswith(("FLASK_", "GUNICORN"))
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        PETITION_ENV="production",
        BASE_URL=BASE_URL,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        FLASK_RATELIMIT_ENABLED="false",
        FLASK_RATELIMIT_KEY_PREFIX=f"prod-test-{uuid.uuid4().hex[:12]}",
        SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
        MAIL_FROM="petition@example.org",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run_flask(env: dict, *args: str) -> str:
    """Run ``flask --app wsgi ARGS`` as an operator would; return what it printed."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def prepare_database(database_url: str) -> None:
    """What a deploy does before the site serves: the migrations, then the bundled statement."""
    env = app_environment(database_url)
    run_flask(env, "db", "upgrade")
    run_flask(env, "petition", "seed")


class Server:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` with two workers on a free loopback port, in a
    session (and process group) of its own so that master and workers can be killed together."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2):
        self.port = free_port()
        # What nginx passes on: the site's own name (production refuses any other Host).
        self.host = urlsplit(env.get("BASE_URL", "")).netloc or f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # closed by stop() or kill()
        try:
            self.process = self._spawn(env, workers)
        except BaseException:
            self._log.close()
            raise

    def _spawn(self, env: dict, workers: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "wsgi:app",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(workers),
                # The default control socket is one path per user: instances would take it from
                # each other (and from anyone else's gunicorn on this machine).
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_healthy(self, timeout: float = BOOT_SECONDS) -> None:
        """Poll ``/healthz`` until it answers 200; fail with the server's log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                if Visitor(self).get("/healthz", timeout=5).status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not become healthy in {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: a power cut, as far as they know."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the group), forced after a while."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            except ProcessLookupError:
                self.process.wait(timeout=30)
        try:  # a worker the master left behind, if any
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()

    def live_processes(self) -> list[int]:
        """Processes of this server's group that are still running (zombies do not count)."""
        alive = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            state, pgrp = fields[0], int(fields[2])
            if pgrp == self.process.pid and state != "Z":
                alive.append(int(stat.parent.name))
        return alive

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def statuses(self) -> list[int]:
        """The status of every request in the access log."""
        return [int(code) for code in ACCESS_LOG_STATUS.findall(self.log())]

    def assert_no_server_errors(self) -> None:
        log = self.log()
        errors = [code for code in self.statuses() if code >= 500]
        assert not errors, f"{len(errors)} responses with 5xx:\n{log[-5000:]}"
        assert "Traceback" not in log, log[-5000:]


class Servers:
    """Every server a test starts, stopped when it ends."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Server] = []

    def start(self, *envs: dict) -> list[Server]:
        """Start one server per environment, all at once; return them once each is healthy."""
        servers = []
        for env in envs:
            server = Server(env, self.log_dir / f"gunicorn-{len(self.started) + 1}.log")
            self.started.append(server)
            servers.append(server)
        for server in servers:
            server.wait_until_healthy()
        return servers

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def json(self):
        return json.loads(self.text)


class Visitor:
    """One browser: its own cookies, talking to ``server`` (or to any other server of the same
    site, since cookies are not tied to a port)."""

    def __init__(self, server: Server):
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, server=None, timeout=REQUEST_SECONDS):
        server = server or self.server
        headers = {"Host": server.host, "Accept-Language": "en", "User-Agent": "production-tests"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def open_sign_form(self, slug: str = SLUG, server=None, **fields) -> dict:
        """Open the petition page (which sets the session cookie); return the form to send: its
        hidden inputs, CSRF token included, with the fields filled in."""
        page = self.get(f"/p/{slug}", server=server)
        assert page.status == 200, page.text[:2000]
        form = hidden_inputs(page.text)
        assert form.get("csrf_token"), "the sign form has no CSRF token"
        form.update(valid_fields(**fields))
        return form

    def submit_signature(self, form: dict, slug: str = SLUG, server=None) -> Response:
        return self.request("POST", f"/p/{slug}/sign", form=form, server=server)

    def sign(self, slug: str = SLUG, server=None, **fields) -> Response:
        return self.submit_signature(self.open_sign_form(slug, server=server, **fields), slug, server=server)


def petition_json(server: Server) -> dict:
    response = Visitor(server).get(f"/api/v1/petitions/{SLUG}")
    assert response.status == 200, response.text
    return response.json()


def wait_for_api_total(server: Server, expected: int) -> dict:
    """The API's answer once it counts ``expected`` signatures: each worker may keep its counts
    for a few seconds (``COUNTS_CACHE_SECONDS``)."""
    deadline = time.monotonic() + getattr(Config, "COUNTS_CACHE_SECONDS", 0) + 10
    while True:
        answer = petition_json(server)
        if answer["counts"]["total"] == expected or time.monotonic() > deadline:
            return answer
        time.sleep(0.25)


def run_in_threads(count: int, target, timeout: float = 120) -> list:
    """Call ``target(i)`` for i in range(count), each in its own thread; return the results in
    order, or raise the first exception a thread met."""
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(i):
        try:
            results[i] = target(i)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,), name=f"client-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    assert not any(thread.is_alive() for thread in threads), "clients still running after the timeout"
    if errors:
        raise errors[0]
    return results


class Database:
    """Direct SQL on the database the servers use, to check what they stored."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url)

    @property
    def kind(self) -> str:
        return self.engine.dialect.name

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def execute(self, sql: str, **params) -> int:
        with self.engine.begin() as connection:
            return connection.execute(text(sql), params).rowcount

    def signatures(self, email_like: str = "%") -> list:
        """(id, email, status, emails_sent) of the signatures whose address is LIKE ``email_like``."""
        return self.rows(
            "SELECT id, email, status, emails_sent FROM signature WHERE email_key LIKE :pattern ORDER BY id",
            pattern=email_like,
        )

    def outbox_by_signature(self) -> dict[int, list]:
        """Each signature id with its outbox messages: (template, sent_at, recipient)."""
        found: dict[int, list] = {}
        for signature_id, template, sent_at, recipient in self.rows(
            "SELECT signature_id, template, sent_at, recipient FROM outbox ORDER BY id"
        ):
            found.setdefault(signature_id, []).append((template, sent_at, recipient))
        return found

    def dispose(self) -> None:
        self.engine.dispose()
