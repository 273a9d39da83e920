"""The solidarity petition service."""

import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from .extensions import babel, csrf, db, limiter, login_manager
from .requests import PetitionRequest
from .sessions import SessionInterface

__version__ = "0.1.0"


def create_app(config=None):
    """Build the application; ``config`` (a mapping) overrides the environment, and its
    ``INSTANCE_PATH``, if any, replaces the ``instance/`` folder of the checkout."""
    app = Flask(
        __name__,
        instance_path=(config or {}).get("INSTANCE_PATH"),
        instance_relative_config=True,
        template_folder=str(settings.ROOT / "templates"),
        static_folder=str(settings.ROOT / "static"),
    )
    app.request_class = PetitionRequest
    app.session_interface = SessionInterface()
    configure(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_request_hooks(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    if app.config["PROXY_COUNT"]:
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    return app


def configure(app, config):
    app.config.from_object(settings.Config)
    settings.load_environment(app)
    if config:
        app.config.update(config)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", settings.database_url(app))
    settings.tune_engine(app)
    settings.check_environment(app)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app):
    from . import cache, database, i18n, migrating
    from .organizers.auth import load_organizer

    db.init_app(app)
    database.configure_engine(app)
    cache.init_app(app)
    migrating.init_app(app)  # `flask db`, which loads Flask-Migrate when used
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_organizer)
    login_manager.login_view = "organizers.login"
    login_manager.login_message = None


def register_blueprints(app):
    from .api import bp as api_bp
    from .organizers import bp as organizers_bp
    from .petitions import bp as petitions_bp
    from .signing import bp as signing_bp
    from .updates import bp as updates_bp

    app.register_blueprint(petitions_bp)
    app.register_blueprint(signing_bp)
    app.register_blueprint(organizers_bp, url_prefix="/admin")
    app.register_blueprint(updates_bp)  # its organizers' pages say /admin themselves
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)


def register_errorhandlers(app):
    from .errors import register

    register(app)


def register_commands(app):
    from .commands import register

    register(app)


def register_request_hooks(app):
    from . import i18n, security

    security.init_app(app)
    i18n.init_app(app)
