"""Countries: the ISO 3166-1 alpha-2 codes pycountry knows, stored as codes and shown by their
name in the reader's language (Unicode CLDR, through Babel), sorted as that reader expects."""

import functools
import unicodedata

import pycountry
from babel import Locale, UnknownLocaleError
from flask_babel import get_locale

# CLDR's short forms, where its default name describes rather than names the country.
SHORT_NAMES = {
    "PS": {"en": "Palestine", "es": "Palestina", "fr": "Palestine", "pt": "Palestina"},
}


@functools.cache
def english_names() -> dict[str, str]:
    """Alpha-2 code to pycountry's English short name, for every country pycountry knows."""
    return {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}


@functools.cache
def country_names(locale: str = "en") -> dict[str, str]:
    """Alpha-2 code to the country's name in ``locale``; pycountry's English name for a code
    (or a locale) that CLDR lacks."""
    try:
        territories = Locale.parse(locale).territories
    except (ValueError, UnknownLocaleError):
        territories = {}
    language = locale.split("_")[0]
    return {
        code: SHORT_NAMES.get(code, {}).get(language) or territories.get(code) or english
        for code, english in english_names().items()
    }


def current_locale() -> str:
    return str(get_locale() or "en")


def country_name(code: str) -> str:
    """The name of the country with alpha-2 ``code`` in the current language (the code itself
    if unknown)."""
    return country_names(current_locale()).get(code, code)


def sort_key(name: str) -> str:
    """Accents and case set aside, as a reader looks a name up: Égypte among the E, Åland
    among the A. (Full collation would need ICU; this is right for these four languages.)"""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def _choices(locale: str) -> tuple[tuple[str, str], ...]:
    names = country_names(locale)
    return tuple(sorted(names.items(), key=lambda item: (sort_key(item[1]), item[1])))


def country_choices() -> list[tuple[str, str]]:
    """(code, name) pairs in the current language, sorted by name, for a select field."""
    return list(_choices(current_locale()))
