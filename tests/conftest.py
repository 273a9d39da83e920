"""Fixtures: an app on SQLite (or on PostgreSQL with TEST_DATABASE_URL), a client that signs
and logs in the way a user does, and the bundled petition."""

import os
import re
import socket
import time
from email import message_from_bytes
from email.policy import default as email_policy
from html import unescape as html_unescape
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import MetaData, text

from petition import create_app
from petition.extensions import db as _db
from petition.extensions import limiter
from petition.migrating import init_migrations
from petition.models import Organizer, Petition, Signature
from petition.organizers.auth import create_organizer
from petition.petitions import services
from petition.petitions.importer import read_statement

from .support import close_connections

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
HIDDEN_INPUT = re.compile(r'<input([^>]*type="hidden"[^>]*)>')
ORGANIZER_EMAIL = "organizer@example.org"
ORGANIZER_PASSWORD = "correct horse battery staple"


def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(
        tmp_path_factory.mktemp("db") / "test.sqlite3"
    )


def app_config(url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "RATELIMIT_ENABLED": False,
        # Exact counts at once, and every page rendered afresh; the caches have tests of their own.
        "COUNTS_CACHE_SECONDS": 0,
        "PAGE_CACHE_SECONDS": 0,
        "PETITION_CHECK_SECONDS": 0,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


def reset_schema(app) -> None:
    """Drop every table, then build the schema the way production does: with the migrations."""
    with app.app_context():
        with _db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Everything, whatever revision left it: tables, trigger functions, sequences.
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            else:
                everything = MetaData()
                everything.reflect(connection)
                everything.drop_all(connection)
        init_migrations(app)
        upgrade()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    return database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(db_url):
    app = create_app(app_config(db_url))
    reset_schema(app)
    yield app
    close_connections(app)


@pytest.fixture
def make_app(db_url):
    """Build another app on the same database with some settings changed."""
    apps = []

    def factory(**overrides):
        other = create_app(app_config(db_url, **overrides))
        apps.append(other)
        return other

    yield factory
    for other in apps:
        close_connections(other)
    # Flask-Limiter keeps one state for the process: the last app built decides it. Give it
    # back to the session's app, which runs without limits.
    limiter.enabled = False


@pytest.fixture(autouse=True)
def clean_tables(app):
    """Every test starts from empty tables."""
    yield
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as connection:
            for table in reversed(_db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def load_bundled(app, **settings) -> SimpleNamespace:
    with app.app_context():
        statement = read_statement(app.config["BUNDLED_STATEMENT"]) | settings
        loaded, _ = services.load_petition(statement)
        # Tests post a form the instant they read it. The token's time is its window's start, so
        # in the first seconds of each window that post would be "too fast" and go to review:
        # the tests of that signal (tests/test_integrity.py) set the minimum themselves.
        loaded.min_form_seconds = 0
        _db.session.commit()
        return SimpleNamespace(id=loaded.id, slug=loaded.slug, title=loaded.title)


@pytest.fixture
def petition(app):
    """The bundled statement, set to count signatures at once (no email confirmation, no
    approval of organizations): its id, slug and title."""
    return load_bundled(app, requires_confirmation=False, organizations_need_approval=False)


@pytest.fixture
def bundled_petition(app):
    """The bundled statement as shipped: email confirmation, organizations approved."""
    return load_bundled(app)


@pytest.fixture
def organizer(app):
    with app.app_context():
        create_organizer(ORGANIZER_EMAIL, ORGANIZER_PASSWORD)
        _db.session.commit()
    return ORGANIZER_EMAIL


class Clock:
    """The sign-in clock (``AUTH_CLOCK``), moved by the test."""

    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now

    def forward(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(app, monkeypatch):
    fake = Clock()
    monkeypatch.setitem(app.config, "AUTH_CLOCK", fake)
    return fake


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def hidden_inputs(html: str) -> dict:
    """The hidden inputs of the sign form, which a browser sends back untouched."""
    found = {}
    for attributes in HIDDEN_INPUT.findall(html):
        name = re.search(r'name="([^"]*)"', attributes)
        value = re.search(r'value="([^"]*)"', attributes)
        if name:
            found[name.group(1)] = html_unescape(value.group(1)) if value else ""
    return found


def valid_fields(**overrides) -> dict:
    fields = {
        "kind": "individual",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "country": "PE",
        "city": "Cusco",
        "affiliation": "",
        "comment": "",
        "public": "y",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def organization_fields(**overrides) -> dict:
    fields = valid_fields(
        kind="organization",
        name="Sindicato Unitario de Trabajadores",
        email="contact@sutep.example.org",
        contact_name="Rosa Mamani",
        website="https://sutep.example.org",
    )
    fields.update(overrides)
    return fields


def sign(client, slug: str, page_query: str = "", **fields):
    """Open the petition page, then post the sign form with its CSRF token, as a browser does."""
    page = client.get(f"/p/{slug}{page_query}")
    assert page.status_code == 200
    data = hidden_inputs(page.get_data(as_text=True))
    data.update(fields or valid_fields())
    return client.post(f"/p/{slug}/sign", data=data)


def login(client, email=ORGANIZER_EMAIL, password=ORGANIZER_PASSWORD, next_url=""):
    page = client.get("/admin/login" + (f"?next={next_url}" if next_url else ""))
    token = csrf_token(page.get_data(as_text=True))
    target = "/admin/login" + (f"?next={next_url}" if next_url else "")
    return client.post(target, data={"csrf_token": token, "email": email, "password": password})


def signatures(app):
    """Every stored signature, oldest first."""
    with app.app_context():
        rows = _db.session.scalars(_db.select(Signature).order_by(Signature.id)).all()
        _db.session.expunge_all()
        return rows


__all__ = ["Organizer", "Petition"]


class MailSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self, port: int):
        self.port = port
        self.messages = []
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy))
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class RawMailSink(MailSink):
    """The loopback SMTP server, keeping the bytes of each message as they arrived; it speaks
    SMTPUTF8, so it takes internationalized addresses."""

    def __init__(self, port: int):
        super().__init__(port)
        self.raw = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.raw.append(envelope.content)
        return await super().handle_DATA(server, session, envelope)

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self.controller.start()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mail_sink():
    """An SMTP server, not yet started for tests that need it down first."""
    sink = MailSink(free_port())
    yield sink
    sink.stop()


@pytest.fixture
def smtp(mail_sink):
    """A running SMTP server."""
    mail_sink.start()
    return mail_sink


@pytest.fixture
def raw_smtp():
    """A running SMTP server that keeps each message's bytes as they arrived."""
    sink = RawMailSink(free_port())
    sink.start()
    yield sink
    sink.stop()
