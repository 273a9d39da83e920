"""Configuration read from the environment, with defaults that are safe to ship."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 - refused in production


def default_database_url(instance_path):
    """The embedded default: one SQLite file under ``instance/``."""
    return "sqlite:///" + str(Path(instance_path) / "petition.sqlite3")


class Config:
    """Defaults; every key may be overridden by an environment variable."""

    PETITION_ENV = "development"
    SECRET_KEY = DEV_SECRET_KEY
    BASE_URL = None
    SMTP_URL = None
    MAIL_FROM = "petition@localhost"

    SQLALCHEMY_ENGINE_OPTIONS = {}

    MAX_CONTENT_LENGTH = 64 * 1024
    WTF_CSRF_TIME_LIMIT = None  # a petition page may stay open for hours before it is signed

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # No X-RateLimit-* headers: they cost a read of the limiter's storage on every limited answer
    # (on Redis, a round trip more per signature), and the limited pages are forms, read by
    # people. A refusal still says when to come back (Retry-After, set by the 429 handler).
    RATELIMIT_HEADERS_ENABLED = False
    # Generous per address: a campus or a mobile carrier puts many signers behind one IP.
    RATELIMIT_SIGN = "100 per minute;2000 per hour"
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    RATELIMIT_EMAILED_LINKS = "30 per minute"
    # How many proxies in front of the app set X-Forwarded-For/-Proto (nginx: 1).
    PROXY_COUNT = 0

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    BABEL_DEFAULT_LOCALE = "en"
    # The interface languages, in the chooser's order; catalogs in translations/<code>/.
    LANGUAGES = ("en", "es", "fr", "pt")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")

    MAIL_RETRY_SECONDS = 30
    # Emails one address may cause on one petition: the confirmation and a few resends or notices.
    MAX_EMAILS_PER_SIGNATURE = 4
    CONFIRM_TOKEN_MAX_AGE = 7 * 24 * 3600
    WITHDRAW_TOKEN_MAX_AGE = 400 * 24 * 3600
    # How long a sign form stays good once served (see petition/signing/form_token.py).
    SIGN_FORM_MAX_AGE = 24 * 3600
    UNSUBSCRIBE_TOKEN_MAX_AGE = 400 * 24 * 3600

    # Organizers' updates: recipients queued per pass of the sender, and the most update emails
    # sent in any minute (confirmations are never held back by either).
    UPDATE_BATCH_SIZE = 200
    MAIL_RATE_PER_MINUTE = 600

    # Personal data of a petition closed this many days ago is anonymized by `signatures purge`.
    PURGE_AFTER_DAYS = 180

    # Counts and the rendered petition page are reused this long (per worker process).
    COUNTS_CACHE_SECONDS = 5
    PAGE_CACHE_SECONDS = 5

    SIGNATORIES_PER_PAGE = 50
    # The public list pages through the newest this many of any filter: each page then reads a
    # bounded range, whatever the petition's size (the organizers' CSV has every signature).
    SIGNATORIES_LISTED_MAX = 10_000
    MODERATION_PER_PAGE = 100
    LATEST_SIGNATORIES = 10
    BUNDLED_STATEMENT = str(ROOT / "content" / "solidarity-with-the-peruvian-people.md")


ENV_KEYS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "PETITION_ENV",
    "BASE_URL",
    "SMTP_URL",
    "MAIL_FROM",
    "RATELIMIT_STORAGE_URI",
)


def load_environment(app):
    """Read the documented variables, then any ``FLASK_*`` key."""
    for key in ENV_KEYS:
        value = os.environ.get(key)
        if value:
            app.config[key] = value
    app.config.from_prefixed_env()


def database_url(app):
    """The SQLAlchemy URL: ``DATABASE_URL`` with a psycopg driver, else the SQLite default."""
    url = app.config.get("DATABASE_URL") or default_database_url(app.instance_path)
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return url


# The bind of the second engine on PostgreSQL, whose connections stay in autocommit: signing's
# one statement is its own transaction there (see database.DirectInsertWithChild).
AUTOCOMMIT_BIND = "autocommit"


def tune_engine(app):
    """A connection pool sized for a gunicorn worker on PostgreSQL, and a small second one in
    autocommit for signing (``AUTOCOMMIT_BIND``); SQLite needs neither."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        # A server that restarted leaves dead connections in the pool: see database.py, which
        # tests a connection that has been idle before handing it out.
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 10)
        options.setdefault("pool_recycle", 1800)
        # A bind does not inherit SQLALCHEMY_ENGINE_OPTIONS: the same, but autocommit, so no
        # transaction to roll back when a connection goes back to the pool, and one connection
        # kept (a sync worker signs one request at a time; threads open more).
        binds = dict(app.config.get("SQLALCHEMY_BINDS") or {})
        binds.setdefault(
            AUTOCOMMIT_BIND,
            {
                **options,
                "url": uri,
                "isolation_level": "AUTOCOMMIT",
                "pool_reset_on_return": None,
                "pool_size": 1,
            },
        )
        app.config["SQLALCHEMY_BINDS"] = binds
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def check_production(app):
    """Refuse to run in production with a development secret; harden cookies."""
    if app.config["PETITION_ENV"] != "production":
        return
    secret = app.config.get("SECRET_KEY") or ""
    if secret == DEV_SECRET_KEY or len(secret) < 32:
        raise RuntimeError(
            "PETITION_ENV=production needs SECRET_KEY set to a random value of 32 characters "
            'or more, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["PREFERRED_URL_SCHEME"] = "https"
