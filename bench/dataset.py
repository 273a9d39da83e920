"""The benchmark's database: a fresh one per run, our migrations and seed, and a million
signatures inserted directly (the app would take hours to sign them one by one)."""

import contextlib
import datetime as dt
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import floor_app
import psycopg
from servers import ROOT, VENV_BIN

sys.path.insert(0, str(ROOT))  # the app's own export columns, for the dump tool's query
from petition.models import Signature  # noqa: E402
from petition.organizers.export import COLUMNS, INVALIDATION_COLUMNS  # noqa: E402

SLUG = "solidarity-with-the-peruvian-people"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
COUNTRIES = ("PE", "AR", "BR", "CL", "MX", "FR", "ES", "DE", "US", "ZA")
CITIES = ("Lima", "Cusco", "Arequipa", "Buenos Aires", "São Paulo", "Paris", "")
SIGNATURE_COLUMNS = (
    "petition_id",
    "kind",
    "name",
    "email",
    "email_key",
    "country",
    "city",
    "affiliation",
    "contact_name",
    "website",
    "comment",
    "public",
    "updates",
    "status",
    "confirmed_at",
    "source",
    "locale",
    "ip_hash",
    "emails_sent",
    "created_at",
)


@dataclass
class Database:
    """Where the run's data lives: ``kind`` is sqlite or postgres; ``path`` is the SQLite file,
    ``name`` the PostgreSQL database."""

    kind: str
    url: str
    path: Path | None = None
    name: str = ""

    def connect(self):
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.path, timeout=30)
            connection.execute("PRAGMA busy_timeout=30000")
            return connection
        return psycopg.connect(self.url.replace("+psycopg", ""))

    def scalar(self, sql: str, *params):
        """The first value of the first row of ``sql`` (``?`` placeholders on both databases)."""
        if self.kind == "postgres":
            sql = sql.replace("?", "%s")
        with contextlib.closing(self.connect()) as connection:
            return connection.execute(sql, params).fetchone()[0]

    def execute(self, *statements: str) -> None:
        with contextlib.closing(self.connect()) as connection:
            for sql in statements:
                connection.execute(sql)
            connection.commit()


def create(kind: str, workdir: Path, name: str = "bench") -> Database:
    """A fresh, empty database: a SQLite file in ``workdir``, or PostgreSQL's ``name`` recreated."""
    if kind == "sqlite":
        path = workdir / "petition.sqlite3"
        return Database("sqlite", f"sqlite:///{path}", path)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"{name!r}: a PostgreSQL database name of a-z, 0-9 and _ only")
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return Database("postgres", POSTGRES_SERVER + name, name=name)


def create_floor_table(db: Database) -> None:
    """The PostgreSQL floor's table, empty, made before its workers start."""
    with contextlib.closing(db.connect()) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {floor_app.POSTGRES_TABLE}")
        connection.execute(floor_app.POSTGRES_SCHEMA)
        connection.commit()


def count_floor_rows(db: Database) -> int:
    """The rows the PostgreSQL floor stored."""
    return db.scalar(f"SELECT count(*) FROM {floor_app.POSTGRES_TABLE}")  # noqa: S608 - a constant


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    """Run ``flask --app wsgi ARGS`` in the repository; its output, or an error with it."""
    completed = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def prepare(env: dict) -> None:
    """Our schema by the migrations, and the bundled petition."""
    flask(env, "db", "upgrade")
    flask(env, "petition", "seed")


def petition_id(db: Database) -> int:
    return db.scalar("SELECT id FROM petition WHERE slug = ?", SLUG)


def count_signatures(db: Database) -> int:
    return db.scalar("SELECT count(*) FROM signature WHERE petition_id = ?", petition_id(db))


def count_counted(db: Database) -> int:
    """The rows the petition's count should show (statuses in ``Signature.COUNTED``)."""
    marks = ", ".join("?" * len(Signature.COUNTED))
    return db.scalar(
        f"SELECT count(*) FROM signature WHERE petition_id = ? AND status IN ({marks})",  # noqa: S608
        petition_id(db),
        *Signature.COUNTED,
    )


def count_table_total(db: Database) -> int:
    """The petition's count as the database keeps it (its triggers' table)."""
    return db.scalar("SELECT coalesce(sum(n), 0) FROM signature_count WHERE petition_id = ?", petition_id(db))


def set_confirmation(db: Database, required: bool) -> None:
    """Whether a signature on the bundled petition waits for its email to be confirmed."""
    value = "true" if required else "false"
    db.execute(f"UPDATE petition SET requires_confirmation = {value} WHERE slug = '{SLUG}'")  # noqa: S608


def clear_signatures(db: Database) -> None:
    """Remove what the signing runs stored, so the bulk set is the only data."""
    db.execute("DELETE FROM outbox", "DELETE FROM signature")


def signature_rows(petition: int, count: int, timestamps=str):
    """``count`` confirmed signatures with distinct addresses; some organizations, some comments."""
    start = dt.datetime(2026, 1, 1)
    for n in range(count):
        organization = n % 50 == 0
        email = f"signer{n}@example.org"
        moment = timestamps(start + dt.timedelta(seconds=n))
        yield (
            petition,
            "organization" if organization else "individual",
            f"Organization {n}" if organization else f"Signer Number {n}",
            email,
            email,
            COUNTRIES[n % len(COUNTRIES)],
            CITIES[n % len(CITIES)],
            "" if organization or n % 4 else "Teacher, SUTEP union",
            "Contact Person" if organization else "",
            "https://example.org" if organization else "",
            "In solidarity, from afar." if n % 7 == 0 else "",
            n % 10 != 0,
            n % 3 == 0,
            "confirmed",
            moment,
            "whatsapp" if n % 5 == 0 else "",
            "en",
            "",
            1,
            moment,
        )


def sqlite_timestamp(moment: dt.datetime) -> str:
    """The text SQLAlchemy stores a DateTime as on SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_insert(db: Database, count: int) -> None:
    """Insert ``count`` confirmed signatures on the bundled petition, directly."""
    petition = petition_id(db)
    columns = ", ".join(SIGNATURE_COLUMNS)
    connection = db.connect()
    try:
        if db.kind == "sqlite":
            marks = ", ".join("?" * len(SIGNATURE_COLUMNS))
            connection.executemany(
                f"INSERT INTO signature ({columns}) VALUES ({marks})",  # noqa: S608 - constants
                signature_rows(petition, count, timestamps=sqlite_timestamp),
            )
            connection.commit()
            return
        with connection.cursor().copy(f"COPY signature ({columns}) FROM STDIN") as copy:
            for row in signature_rows(petition, count, timestamps=lambda moment: moment):
                copy.write_row(row)
        connection.commit()
        # What autovacuum would do soon after such a load: statistics and the visibility map.
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE signature")
    finally:
        connection.close()


def export_query(db: Database) -> str:
    """The rows and columns of our CSV export, as plain SQL for the database's own dump tool."""
    cells = ", ".join(
        f"invalidation.{INVALIDATION_COLUMNS[name]}" if name in INVALIDATION_COLUMNS else f"signature.{name}"
        for name in COLUMNS
    )
    return (
        f"SELECT {cells} FROM signature "  # noqa: S608 - constants
        "LEFT JOIN invalidation ON invalidation.id = signature.invalidation_id "
        f"WHERE signature.petition_id = {petition_id(db)} ORDER BY signature.id"
    )
