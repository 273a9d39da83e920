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


# The attribute by which Flask-Limiter marks the views its ``limit`` decorator wrapped.
LIMITER_WRAPPER_MARK = "__wrapper-limiter-instance"


def drop_idle_limiter_checks(app) -> None:
    """Take out Flask-Limiter's checks where they can limit nothing. Call it once the
    blueprints are registered.

    - With the limiter off (``RATELIMIT_ENABLED=false``), the views its ``limit`` decorator
      wrapped are served unwrapped: the wrapper would look up the request's limits on every
      call (a twentieth of a signature's time) only to find the limiter off.
    - With it on, besides the check each decorator makes on its own view, Flask-Limiter checks
      every request in a ``before_request`` hook, for limits covering the whole application
      (``RATELIMIT_DEFAULT``, ``RATELIMIT_APPLICATION``) or a blueprint. This site declares
      none, each limit guarding one form post on its view, and the hook cost a page view a sixth
      of its time for nothing. If any such limit is declared, the hook stays.
    """
    if not limiter.enabled:
        for endpoint, view in app.view_functions.items():
            if getattr(view, LIMITER_WRAPPER_MARK, None) == limiter:  # a weak proxy to it
                app.view_functions[endpoint] = view.__wrapped__
        return
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits:
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
