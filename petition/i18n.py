"""Choosing the interface language: the visitor's choice (``?lang=``, remembered in a cookie),
else ``Accept-Language``; the language chooser's links; language names for people and for
Open Graph."""

import functools
import logging
from pathlib import Path
from urllib.parse import quote, urlencode

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from flask import current_app, has_request_context, request
from flask_babel import get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

log = logging.getLogger(__name__)
LANGUAGE_COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def select_locale() -> Locale:
    """The locale for this request: ``?lang=``, else the ``lang`` cookie, else the browser's
    ``Accept-Language``, else the default. Outside a request (the mail sender), the default:
    emails choose their language with ``force_locale``."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return parsed_locale(default)
    # Each source is parsed only when the request has one: a form post or a shared link has
    # neither a query nor a cookie, and parsing them for nothing cost every signature.
    environ = request.environ
    if code := asked_language():
        return parsed_locale(code)
    if environ.get("HTTP_COOKIE") and (code := request.cookies.get(LANGUAGE_COOKIE)) in languages:
        return parsed_locale(code)
    return parsed_locale(best_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""), tuple(languages)) or default)


def asked_language() -> str | None:
    """The interface language ``?lang=`` asks for, if it is one of ours. The query string is
    parsed only when the request has one (a form post or a shared link has none)."""
    if not request.environ.get("QUERY_STRING"):
        return None
    code = request.args.get("lang")
    return code if code in current_app.config["LANGUAGES"] else None


# Browsers send few distinct Accept-Language headers; longer ones than this are not kept.
ACCEPT_LANGUAGE_KEPT = 200


def best_language(header: str, languages: tuple[str, ...]) -> str | None:
    """The best of ``languages`` for an ``Accept-Language`` header (None if none will do)."""
    if not header:
        return None
    choose = _best_language if len(header) <= ACCEPT_LANGUAGE_KEPT else _best_language.__wrapped__
    return choose(header, languages)


@functools.lru_cache(maxsize=1024)
def _best_language(header: str, languages: tuple[str, ...]) -> str | None:
    return parse_accept_header(header, LanguageAccept).best_match(languages)


@functools.cache
def parsed_locale(code: str) -> Locale:
    """One :class:`~babel.Locale` per language, which Flask-Babel then takes as it is instead
    of parsing the code again on every request."""
    return Locale.parse(code)


@functools.cache
def language_name(code: str) -> str:
    """The language's name in itself, as a menu shows it: English, Español, Français, Português."""
    try:
        name = Locale.parse(code).get_display_name(code)
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


@functools.cache
def og_locale(code: str) -> str:
    """``code`` as Open Graph writes locales, language_TERRITORY: es becomes es_ES, pt pt_BR."""
    try:
        locale = Locale.parse(code)
        if not locale.territory and locale.language in get_global("likely_subtags"):
            locale = Locale.parse(get_global("likely_subtags")[locale.language])
    except (ValueError, UnknownLocaleError):
        return code
    return f"{locale.language}_{locale.territory}" if locale.territory else locale.language


def language_links(path: str | None = None, query: dict | None = None) -> list[dict]:
    """One link per interface language to this page in that language: the same path and query,
    with ``lang`` set. A page shared between visitors (the cached petition page) passes the
    ``path`` and ``query`` it depends on, so no visitor's own parameters end up in it."""
    if path is None:
        path = request.script_root + quote(request.path)
        kept = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    else:
        kept = [(key, value) for key, value in (query or {}).items() if value and key != "lang"]
    current = str(get_locale())
    return [
        {
            "code": code,
            "name": language_name(code),
            "url": path + "?" + urlencode([*kept, ("lang", code)]),
            "current": code == current,
        }
        for code in current_app.config["LANGUAGES"]
    ]


def warn_about_missing_catalogs(app) -> None:
    """Log when a language has no compiled catalog, or an older one than its ``.po`` file:
    the site would show English for it. ``make translations`` compiles them."""
    directories = [Path(d) for d in app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")]
    for code in app.config["LANGUAGES"]:
        if code == app.config["BABEL_DEFAULT_LOCALE"]:
            continue
        sources = [d / code / "LC_MESSAGES" / "messages.po" for d in directories]
        sources = [source for source in sources if source.exists()]
        if not sources:
            log.warning("no catalog for %r: its pages will be in English", code)
        for source in sources:
            compiled = source.with_suffix(".mo")
            if not compiled.exists():
                log.warning("no compiled catalog for %r: run `make translations`", code)
            elif compiled.stat().st_mtime < source.stat().st_mtime:
                log.warning(
                    "the compiled catalog for %r is older than its .po: run `make translations`", code
                )


def init_app(app):
    from .petitions.translations import localized

    warn_about_missing_catalogs(app)
    app.add_template_global(language_links)
    app.add_template_global(language_name)
    app.add_template_global(og_locale)
    app.add_template_global(localized)

    @app.context_processor
    def language_context():
        return {"current_locale": str(get_locale()), "languages": app.config["LANGUAGES"]}

    @app.after_request
    def remember_language(response):
        chosen = asked_language()
        # A response that shared caches may keep (the embed widget) carries no one's cookie.
        if chosen and request.cookies.get(LANGUAGE_COOKIE) != chosen and not response.cache_control.public:
            response.set_cookie(
                LANGUAGE_COOKIE,
                chosen,
                max_age=COOKIE_MAX_AGE,
                samesite="Lax",
                secure=app.config.get("SESSION_COOKIE_SECURE", False),
                httponly=True,
            )
        if request.method in ("GET", "HEAD") and response.mimetype == "text/html":
            # The same address answers in the visitor's language: caches must keep them apart
            # (only reads are cached: a form's answer need not say).
            response.vary.update(("Accept-Language", "Cookie"))
        return response
