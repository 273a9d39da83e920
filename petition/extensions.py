"""Extensions, created unbound and bound to the app in ``create_app``."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def reads_are_not_limited() -> bool:
    """Every rate limit here guards a form post; a read (a petition page in a spike) skips the
    limiter's lookups altogether."""
    return request.method in ("GET", "HEAD", "OPTIONS")


def init_limiter(app) -> None:
    """Flask-Limiter, checking the limits declared on views, and only those.

    Besides the check each ``limiter.limit`` decorator makes, Flask-Limiter checks every request
    in a ``before_request`` hook for limits that cover a whole application or blueprint
    (``RATELIMIT_DEFAULT``, ``RATELIMIT_APPLICATION``). This site sets none: each limit guards
    one form post, on its view. Unless one is configured, the hook is taken out; it cost a page
    view a sixth of its time, for nothing.
    """
    limiter.init_app(app)
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
