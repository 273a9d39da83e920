"""The floor: the least a Flask app can do for a signature, to measure ours against.

One POST handler validates the email (email-validator, no DNS) and inserts one row into SQLite
(WAL, busy timeout, the same pragmas as ours), then answers 303; one GET handler says hello.
Serve it with our gunicorn settings, from the repository root:

    FLOOR_DATABASE=/tmp/floor.sqlite3 .venv/bin/gunicorn -c gunicorn.conf.py \
        --chdir bench floor_app:app -b 127.0.0.1:8001
"""

import os
import sqlite3
import tempfile

from email_validator import EmailNotValidError, validate_email
from flask import Flask, redirect, request

DATABASE = os.environ.get("FLOOR_DATABASE") or os.path.join(tempfile.gettempdir(), "floor.sqlite3")
SCHEMA = "CREATE TABLE IF NOT EXISTS signature (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)"

app = Flask(__name__)
_connections: dict[int, sqlite3.Connection] = {}


def connection() -> sqlite3.Connection:
    """This process's connection, opened after gunicorn forks (a connection must not cross a fork)."""
    pid = os.getpid()
    if pid not in _connections:
        conn = sqlite3.connect(DATABASE, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(SCHEMA)
        _connections[pid] = conn
    return _connections[pid]


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
    connection().execute("INSERT INTO signature (email) VALUES (?)", (email,))
    return redirect("/hello", code=303)
