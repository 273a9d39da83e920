"""``flask db`` is Flask-Migrate's, loaded only when used: the site and its other commands start
without importing alembic. Migrations that create the count triggers again create them as 0005
did."""

import os
import subprocess
import sys

from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from petition import config as settings
from petition.extensions import db
from petition.migrating import MIGRATIONS
from petition.models import Signature

from .support import store_signature


def test_flask_db_runs_flask_migrate_commands(app, runner):
    result = runner.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with app.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head


def test_flask_db_takes_flask_migrate_options_and_help(runner, tmp_path):
    elsewhere = runner.invoke(args=["db", "--directory", str(tmp_path), "upgrade"])
    assert elsewhere.exit_code != 0  # no migrations there: the option reached Flask-Migrate

    listed = runner.invoke(args=["db", "--help"]).output
    assert "upgrade" in listed
    assert "--directory" in listed


def test_the_app_starts_without_alembic(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite3'}"}
    loaded = "sorted(m for m in sys.modules if m.startswith(('alembic', 'flask_migrate')))"
    code = f"import sys, wsgi; print({loaded})"

    started = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "[]"


def count_triggers() -> dict[str, str]:
    """The definition of each count trigger on ``signature`` (and, on PostgreSQL, of each of their
    functions), as the database keeps it."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        sql = (
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgrelid = CAST('signature' AS regclass)"
            " AND tgname LIKE 'signature_count%'"
            " UNION ALL SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'signature_count%'"
        )
    else:
        sql = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'signature'"
            " AND name LIKE 'signature_count%'"
        )
    found = dict(connection.execute(text(sql)).all())
    db.session.remove()
    return found


def test_going_down_to_0006_leaves_the_count_triggers_as_0005_creates_them(app):
    """0008 creates the SQLite triggers again after copying the table, and 0007 puts back the
    PostgreSQL function of 0005 on its way down: each writes its SQL out itself, to the byte."""
    with app.app_context():
        try:
            at_head = count_triggers()
            downgrade(revision="0006")
            put_back = count_triggers()
            downgrade(revision="0004")
            upgrade(revision="0006")
            made_by_0005 = count_triggers()

            assert len(made_by_0005) >= 3
            assert put_back == made_by_0005
            if db.engine.dialect.name == "sqlite":  # 0007 changes nothing there
                assert at_head == made_by_0005
            upgrade()
            assert count_triggers() == at_head
        finally:
            db.session.remove()
            upgrade()


def test_0016_adds_and_drops_archived_at_without_losing_a_signature(app, petition):
    """A batch copy of ``petition`` would drop the table, and with it, by cascade, every
    signature: 0016 alters it in place both ways."""
    store_signature(app, petition.slug)
    with app.app_context():
        try:
            downgrade(revision="0009")
            assert "archived_at" not in {c["name"] for c in inspect(db.engine).get_columns("petition")}
            assert db.session.scalar(select(func.count()).select_from(Signature.__table__)) == 1
            db.session.remove()
            upgrade()
            assert "archived_at" in {c["name"] for c in inspect(db.engine).get_columns("petition")}
            assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
        finally:
            db.session.remove()
            upgrade()
