"""``flask db`` is Flask-Migrate's, loaded only when used: the site and its other commands start
without importing alembic."""

import os
import subprocess
import sys

from alembic.script import ScriptDirectory
from sqlalchemy import text

from petition import config as settings
from petition.extensions import db
from petition.migrating import MIGRATIONS


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
