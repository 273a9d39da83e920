"""Reading the message catalogs, and finding English left on a page that should be in another
language: shared by the language tests."""

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("es", "fr", "pt")
# Placeholders that stand for numbers; any other stands for any text.
NUMERIC = {"num", "count", "total", "max", "goal", "page", "pages", "days"}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*\d*(?:\.\d+)?([sdifr%])")


def catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def forms(message) -> tuple[list[str], list[str]]:
    """The English forms of a message and their translations."""
    if isinstance(message.id, (list, tuple)):
        return list(message.id), list(message.string)
    return [message.id], [message.string]


def placeholders(text: str) -> set[str]:
    return {f"%({name}){kind}" if name else f"%{kind}" for name, kind in PLACEHOLDER.findall(text)} - {"%%"}


class _Texts(HTMLParser):
    """The visible text and the read-aloud attributes of a page, each with its language."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    READ_ALOUD = ("aria-label", "title", "alt", "placeholder", "data-copied")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = [("", "")]
        self.chunks: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        language = attrs.get("lang") or self.stack[-1][1]
        for name in self.READ_ALOUD:
            if attrs.get(name):
                self.chunks.append((language, attrs[name]))
        if tag not in self.VOID:
            self.stack.append((tag, language))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self.stack[-1][0] not in ("script", "style") and data.strip():
            self.chunks.append((self.stack[-1][1], data))


@functools.cache
def english_patterns(language: str) -> list[tuple[str, re.Pattern]]:
    """A pattern for each English string whose translation into ``language`` differs."""
    messages = [message for message in catalog(language) if message.id]
    translations = {text for message in messages for text in forms(message)[1]}
    patterns = []
    for message in messages:
        for english in forms(message)[0]:
            if english in translations:
                continue
            parts = re.split(r"%\((\w+)\)[sd]", english)
            regex = "".join(
                re.escape(part) if index % 2 == 0 else (r"\d[\d.,\s]*" if part in NUMERIC else r".+?")
                for index, part in enumerate(parts)
            )
            if " " not in english.strip() and "%" not in english:
                regex = rf"^\W*{regex}\W*$"  # a single word: only a whole text counts
            patterns.append((english, re.compile(rf"(?<!\w){regex}(?!\w)")))
    return patterns


def english_left(html: str, language: str) -> list[str]:
    """The English strings of the catalog found in the parts of ``html`` written in ``language``
    (text marked with another ``lang``, like a statement not yet translated, is left alone)."""
    parser = _Texts()
    parser.feed(html)
    page_language = re.search(r'<html lang="([^"]+)"', html).group(1)
    assert page_language == language
    texts = [" ".join(text.split()) for lang, text in parser.chunks if lang in ("", language)]
    return sorted(
        {english for english, pattern in english_patterns(language) for text in texts if pattern.search(text)}
    )


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def chooser(html: str) -> list[tuple[str, str, str, bool]]:
    """(language, name, href, current) of each link of the language chooser."""
    nav = re.search(r'<nav class="languages".*?</nav>', html, re.S).group(0)
    found = re.findall(
        r'<a href="([^"]+)" hreflang="(\w+)" lang="(\w+)"( aria-current="true")?>([^<]+)</a>', nav
    )
    return [(lang, name, href.replace("&amp;", "&"), bool(current)) for href, _, lang, current, name in found]


def country_options(html: str) -> list[tuple[str, str]]:
    select_html = re.search(r'<select[^>]*name="country".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]+)</option>', select_html)
