"""Fixtures for the production tests: databases of their own (SQLite files, and PostgreSQL
databases named ``prod_test_…``) built by the migrations once per session and copied for each
test, and gunicorn servers that are always stopped."""

import sqlite3
import uuid
from contextlib import closing, contextmanager

import psycopg
import pytest
from psycopg import sql

from .web import Database, Servers, answers, prepare_database

POSTGRES_PORT = 5432
POSTGRES_ADMIN = f"host=127.0.0.1 port={POSTGRES_PORT} user=postgres dbname=postgres connect_timeout=5"


def postgres_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{POSTGRES_PORT}/{name}"


def pytest_configure(config):
    # Also listed in pyproject.toml; registered here too so the folder runs under --strict-markers alone.
    config.addinivalue_line("markers", "production: runs the app under gunicorn in subprocesses")


@pytest.fixture(autouse=True)
def clean_tables():
    """Replaces the suite's table cleaning: these tests never touch the in-process app's database."""
    yield


def postgres_admin(statement: sql.Composable) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(statement)


def drop_postgres_database(name: str) -> None:
    postgres_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file migrated and seeded by the command line, to copy for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "petition.sqlite3"
    prepare_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template():
    """A PostgreSQL database migrated and seeded by the command line, cloned for each test."""
    if not answers(POSTGRES_PORT):
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    name = f"prod_test_{uuid.uuid4().hex[:12]}_template"
    postgres_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        prepare_database(postgres_url(name))
        yield name
    finally:
        drop_postgres_database(name)


@contextmanager
def postgres_copy(template: str):
    """A fresh PostgreSQL database made from ``template``, dropped afterwards."""
    name = f"prod_test_{uuid.uuid4().hex[:12]}"
    postgres_admin(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    )
    database = Database(postgres_url(name))
    try:
        yield database
    finally:
        database.dispose()
        drop_postgres_database(name)


@contextmanager
def sqlite_copy(template, directory):
    path = directory / "petition.sqlite3"
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    database = Database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A migrated, seeded database of the test's own: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        copy = sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        copy = postgres_copy(request.getfixturevalue("postgres_template"))
    with copy as database:
        yield database


@pytest.fixture(scope="module")
def shared_postgres(postgres_template):
    """One PostgreSQL database for a whole module."""
    with postgres_copy(postgres_template) as database:
        yield database


@pytest.fixture
def servers(tmp_path):
    """Start gunicorn servers with ``servers.start(env, …)``; all are stopped after the test."""
    started = Servers(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture(scope="session")
def redis_available():
    if not answers(6379):
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
