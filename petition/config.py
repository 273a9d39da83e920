"""Configuration read from the environment, with defaults that are safe to ship."""

import os
import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def default_database_url(instance_path):
    """The embedded default: one SQLite file under ``instance/``."""
    return "sqlite:///" + str(Path(instance_path) / "petition.sqlite3")


class Config:
    """Defaults; every key may be overridden by an environment variable."""

    PETITION_ENV = "development"
    # Unset: production refuses to start; development makes one (see instance_secret).
    SECRET_KEY = None
    BASE_URL = None
    SMTP_URL = None
    MAIL_FROM = "petition@localhost"
    # Who holds the signers' data, named on the privacy page: empty, "the organizers of this
    # site"; the contact (an email address or a web address) falls back to MAIL_FROM.
    DATA_CONTROLLER_NAME = ""
    DATA_CONTROLLER_CONTACT = ""

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
    # The second step of an organizer's sign-in (the code), per address.
    RATELIMIT_LOGIN_CODE = "5 per minute;30 per hour"
    # Failed sign-ins (password or code) on one account, in a row, that lock it for
    # LOGIN_LOCK_MINUTES; each failure after that locks it again.
    LOGIN_LOCK_AFTER = 5
    LOGIN_LOCK_MINUTES = 15
    # An organizer's session ends after this long without a request.
    ORGANIZER_IDLE_MINUTES = 12 * 60
    # Whether accounts that can see signers' personal data must use a second factor; unset:
    # yes in production, no in development.
    ORGANIZER_2FA_REQUIRED = None
    # The clock of sign-in (idle time, lockout, one-time codes): seconds since the epoch.
    AUTH_CLOCK = time.time
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
    # Sender processes that `mail send --loop` runs; unset, one per CPU.
    MAIL_WORKERS = None
    # DKIM signing of every message, for the domain of MAIL_FROM: the private key (PEM) and the
    # selector its public key is published under (<selector>._domainkey.<domain>). Unset: none.
    DKIM_KEY_FILE = None
    DKIM_SELECTOR = None
    # /healthz/mail answers 503 once the oldest confirmation waiting is older than this.
    MAIL_HEALTH_MAX_AGE_SECONDS = 300
    # Emails one address may cause on one petition: the confirmation and a few resends or notices.
    MAX_EMAILS_PER_SIGNATURE = 4
    CONFIRM_TOKEN_MAX_AGE = 7 * 24 * 3600
    WITHDRAW_TOKEN_MAX_AGE = 400 * 24 * 3600
    # How long a sign form stays good once served (see petition/signing/form_token.py).
    SIGN_FORM_MAX_AGE = 24 * 3600
    UNSUBSCRIBE_TOKEN_MAX_AGE = 400 * 24 * 3600
    # How long the link of an organizer's invitation lets them choose a password.
    INVITATION_MAX_AGE = 7 * 24 * 3600

    # Organizers' updates: recipients queued per pass of the sender, and the most update emails
    # sent in any minute (confirmations are never held back by either).
    UPDATE_BATCH_SIZE = 200
    MAIL_RATE_PER_MINUTE = 600

    # Quiet detection (petition/signing/signals.py): velocity counters live in Redis when
    # RATELIMIT_STORAGE_URI or REDIS_URL names one, under this prefix; else in the database.
    REDIS_URL = None
    SIGNALS_KEY_PREFIX = "petition:signals"
    # The proof of work asked in a surge (ALTCHA, PBKDF2 iterations): about a second of a phone's time.
    ALTCHA_COST = 5000

    # Personal data of a petition closed this many days ago is anonymized by `signatures purge`
    # (a petition without a closing date keeps each signer's for its own retention_days).
    PURGE_AFTER_DAYS = 180
    # The copy of a sent email (address, subject, bodies) is deleted this many days after sending.
    SENT_MAIL_RETENTION_DAYS = 30
    # The mail sender applies the retention rules at start and then this often; 0 leaves them to
    # `signatures purge` (e.g. deploy/petition-purge.timer).
    PURGE_INTERVAL_SECONDS = 3600
    # A bulk invalidation (or its undo) changes signatures this many ids at a time, each batch
    # committed on its own, so that people signing meanwhile are not kept waiting.
    INVALIDATION_BATCH = 5000
    # On SQLite, the wait before each batch after the first, so that signers kept waiting by a
    # batch get the write lock before the next one (see organizers/invalidation.py).
    INVALIDATION_PAUSE_SECONDS = 0.1

    # Counts and the rendered petition page are reused this long (per worker process, at most
    # CACHE_MAX_ENTRIES entries in all: see petition/cache.py).
    COUNTS_CACHE_SECONDS = 5
    PAGE_CACHE_SECONDS = 5
    CACHE_MAX_ENTRIES = 512
    # A worker reads a petition's row (its version, whether it is open) again after this long:
    # an edit reaches every worker within it.
    PETITION_CHECK_SECONDS = 1
    # A petition's share picture is drawn again after this long (for its count), or at an edit.
    SHARE_IMAGE_CACHE_SECONDS = 600

    SIGNATORIES_PER_PAGE = 50
    # The public list pages through the newest this many of any filter: each page then reads a
    # bounded range, whatever the petition's size (the organizers' CSV has every signature).
    SIGNATORIES_LISTED_MAX = 10_000
    MODERATION_PER_PAGE = 100
    AUDIT_PER_PAGE = 50
    LATEST_SIGNATORIES = 10
    # Registrable domains where anyone may get an address: an organization whose website is at
    # one of them is never verified by confirming from there (see signing/verification.py).
    UNVERIFIABLE_DOMAINS = frozenset(
        (
            "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
            "yahoo.com", "ymail.com", "icloud.com", "me.com", "aol.com", "proton.me",
            "protonmail.com", "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "mail.ru",
            "yandex.ru", "yandex.com", "zoho.com", "tutanota.com", "riseup.net", "disroot.org",
            "posteo.de", "qq.com", "163.com", "naver.com", "rediffmail.com", "uol.com.br",
        )
    )  # fmt: skip
    # The largest signature file an organizer may upload (the sign form's limit is far lower).
    IMPORT_MAX_BYTES = 2 * 1024 * 1024
    BUNDLED_STATEMENT = str(ROOT / "content" / "solidarity-with-the-peruvian-people.md")


ENV_KEYS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "PETITION_ENV",
    "BASE_URL",
    "SMTP_URL",
    "MAIL_FROM",
    "DKIM_KEY_FILE",
    "DKIM_SELECTOR",
    "DATA_CONTROLLER_NAME",
    "DATA_CONTROLLER_CONTACT",
    "RATELIMIT_STORAGE_URI",
    "REDIS_URL",
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


def tune_engine(app):
    """A connection pool sized for a gunicorn worker on PostgreSQL; SQLite needs none."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        # A server that restarted leaves dead connections in the pool: see database.py, which
        # tests a connection that has been idle before handing it out.
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 10)
        options.setdefault("pool_recycle", 1800)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


ENVIRONMENTS = ("development", "production")


def check_environment(app):
    """Refuse to start on unsafe settings: an unknown ``PETITION_ENV``, production without a real
    secret, without ``BASE_URL`` or with rate limits counted in each process. In production,
    harden cookies and answer only ``BASE_URL``'s host; in development without ``SECRET_KEY``,
    use the installation's own (instance_secret)."""
    environment = app.config["PETITION_ENV"]
    if environment not in ENVIRONMENTS:
        # A typo such as "prod" must not run as development, on settings meant for a laptop.
        raise RuntimeError(
            f"PETITION_ENV={environment!r} is unknown: set it to 'development' or 'production'"
        )
    if app.config.get("BASE_URL"):
        app.config["BASE_URL"] = site_origin_from(app.config["BASE_URL"])
    if app.config.get("ORGANIZER_2FA_REQUIRED") is None:
        app.config["ORGANIZER_2FA_REQUIRED"] = environment == "production"
    if environment != "production":
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = instance_secret(app.instance_path)
        return
    secret = app.config.get("SECRET_KEY") or ""
    if len(secret) < 32:
        raise RuntimeError(
            "PETITION_ENV=production needs SECRET_KEY set to a random value of 32 characters "
            'or more, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    if not app.config.get("BASE_URL"):
        # Links in emails, share buttons and QR codes would otherwise follow the Host header,
        # which anyone can set.
        raise RuntimeError(
            "PETITION_ENV=production needs BASE_URL, the site's public origin, e.g. "
            "BASE_URL=https://sign.example.org: every absolute link is built from it"
        )
    if app.config["RATELIMIT_ENABLED"] and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # Each gunicorn worker would count on its own: N workers, N times the limits on signing
        # and on guessing passwords.
        raise RuntimeError(
            "PETITION_ENV=production needs RATELIMIT_STORAGE_URI set to a storage every worker "
            "shares, e.g. RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379: memory:// counts in "
            "each process"
        )
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["BASE_URL"]).hostname]
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["PREFERRED_URL_SCHEME"] = "https"


def instance_secret(instance_path: str) -> str:
    """This installation's development secret, in ``instance/secret_key``: made once, at random,
    readable by its owner alone, so that no two installations share one."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        os.makedirs(instance_path, exist_ok=True)
        # Written whole under another name, then linked into place: a second process starting
        # at the same moment finds either no file or the complete one, never half of it.
        descriptor, draft = tempfile.mkstemp(dir=instance_path, prefix=".secret_key-")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
            os.link(draft, path)
        except FileExistsError:
            pass  # the other process's key is the installation's
        finally:
            os.unlink(draft)
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it and a new key is made at the next start")
    return secret


def site_origin_from(base_url: str) -> str:
    """``base_url`` as an origin, ``scheme://host[:port]`` without a trailing slash; a
    RuntimeError that says why when it is not an absolute http(s) origin."""
    parts = urlsplit(base_url.strip())
    if not (
        parts.scheme in ("http", "https")
        and parts.hostname
        and not parts.path.strip("/")
        and not (parts.query or parts.fragment or "@" in parts.netloc)
        and valid_port(parts)
    ):
        raise RuntimeError(
            f"BASE_URL={base_url!r} is not an absolute origin: give the scheme and the host "
            "and nothing after them, e.g. BASE_URL=https://sign.example.org"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def valid_port(parts) -> bool:
    try:
        parts.port  # noqa: B018 - raises ValueError when the port is not a number in range
    except ValueError:
        return False
    return True
