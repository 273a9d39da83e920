"""``flask db``: Flask-Migrate's commands, loaded only when one of them runs.

Importing Flask-Migrate imports alembic, about a tenth of the site's start-up (85 ms), which
every gunicorn worker and every other command (``flask signatures export`` among them) would pay
without using it. The ``db`` group registered here stands in for Flask-Migrate's: looking up any
of its commands sets Flask-Migrate up on the app and hands over to its own group.
"""

import click
from flask.cli import ScriptInfo

from . import settings
from .extensions import db

MIGRATIONS = settings.ROOT / "migrations"


def init_migrations(app) -> None:
    """Set Flask-Migrate up on ``app``: what its commands, and its ``upgrade()`` and
    ``downgrade()`` called from Python (the tests do), need. Doing it twice does nothing."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)


class MigrationCommands(click.Group):
    """Stands in for Flask-Migrate's ``db`` group in ``flask --help``; run, it is that group."""

    def make_context(self, info_name, args, parent=None, **extra):
        init_migrations(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


def init_app(app) -> None:
    app.cli.add_command(MigrationCommands("db", help="Perform database migrations (Flask-Migrate, alembic)."))
