"""The floor: the least a Flask app can do for a signature, to measure ours against.

One POST handler validates the email (email-validator, no DNS) and inserts one row into SQLite
(WAL, busy timeout, the same pragmas as ours), then answers 303; one GET handler says hello.
Serve it with our gunicorn settings, from the repository root:

    FLOOR_DATABASE=/tmp/floor.sqlite3 .venv/bin/gunicorn -c gunicorn.conf.py \
        --chdir bench floor_app:app -b 127.0.0.1:8001

With FLOOR_DATABASE_URL=postgresql://… the row goes to PostgreSQL instead (table
floor_signature, one autocommitted INSERT on a connection per worker): the same floor on the
database server, which ``bench/run.py --db postgres`` measures beside the SQLite one.
"""

import os
import sqlite3
import tempfile

from email_validator import EmailNotValidError, validate_email
from flask import Flask, redirect, request

DATABASE = os.environ.get("FLOOR_DATABASE") or os.path.join(tempfile.gettempdir(), "floor.sqlite3")
DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL", "")
SCHEMA = "CREATE TABLE IF NOT EXISTS signature (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)"
POSTGRES_TABLE = "floor_signature"
POSTGRES_SCHEMA = f"CREATE TABLE {POSTGRES_TABLE} (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE)"

app = Flask(__name__)
_connections: dict[int, object] = {}


def sqlite_connection() -> sqlite3.Connection:
    conn = sqlite3.connect(DATABASE, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(SCHEMA)
    return conn


def postgres_connection():
    import psycopg  # only this variant needs it

    # The table (POSTGRES_SCHEMA) is made by bench/run.py before the workers start.
    return psycopg.connect(DATABASE_URL, autocommit=True)


def connection():
    """This process's connection, opened after gunicorn forks (a connection must not cross a fork)."""
    pid = os.getpid()
    if pid not in _connections:
        _connections[pid] = postgres_connection() if DATABASE_URL else sqlite_connection()
    return _connections[pid]


if DATABASE_URL:
    INSERT = f"INSERT INTO {POSTGRES_TABLE} (email) VALUES (%s)"  # noqa: S608 - a constant
else:
    INSERT = "INSERT INTO signature (email) VALUES (?)"


@app.get("/hello")
def hello():
    return "Hello, World!"


@app.post("/sign")
def sign():
    """Validate the email, store it, redirect: the floor of what signing costs."""
    try:
        email = validate_email(request.form.get("email", ""), check_deliverability=False).normalized
    except EmailNotValidError:
        return "invalid email", 422
    connection().execute(INSERT, (email,))
    return redirect("/hello", code=303)
