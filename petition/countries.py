"""Countries from pycountry, shown by name and stored as ISO 3166-1 alpha-2 codes."""

import functools

import pycountry
from flask_babel import get_locale


@functools.cache
def country_names() -> dict[str, str]:
    """Alpha-2 code to English short name, for every country pycountry knows."""
    return {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}


def country_name(code: str) -> str:
    """The name of the country with alpha-2 ``code`` (the code itself if unknown)."""
    return country_names().get(code, code)


@functools.cache
def _choices(locale: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(country_names().items(), key=lambda item: item[1]))


def country_choices() -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name, for a select field."""
    return list(_choices(str(get_locale())))
