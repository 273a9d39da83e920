"""Helpers shared by the page, API and organizer tests: signatures stored straight in the
database, and small readers of the HTML that the pages send."""

import itertools
import threading
import time
from html.parser import HTMLParser

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, Signature, utcnow
from petition.signing.form_token import TOKEN_SALT, TOKEN_WINDOW
from petition.signing.services import sign as add_signature

_numbers = itertools.count(1)


def store_signature(app, slug: str, status: str = Signature.CONFIRMED, **fields) -> int:
    """Store one signature on the petition ``slug`` as the signing service does; return its id.

    ``status`` is set afterwards, as confirmation or moderation would, whatever the petition asks.
    It runs in a request context, as signing does: the service builds links for its emails.
    """
    number = next(_numbers)
    values = {
        "kind": Signature.INDIVIDUAL,
        "name": f"Signer {number}",
        "email": f"signer{number}@example.org",
        "country": "PE",
        "city": "",
        "affiliation": "",
        "contact_name": "",
        "website": "",
        "comment": "",
        "public": True,
        "updates": False,
        "source": "",
    }
    values.update(fields)
    with app.test_request_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
        signed = add_signature(petition, values)
        assert signed.created, "the test data repeats an email address"
        signature = db.session.get(Signature, signed.id)
        signature.status = status
        signature.confirmed_at = utcnow() if status == Signature.CONFIRMED else None
        db.session.commit()
        return signed.id


def close_connections(app) -> None:
    """Close every pooled connection of ``app``'s engines."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def at_the_same_moment(work, arguments, timeout: float, ready_timeout: float | None = None) -> list:
    """Run ``work(ready, *args)`` in a thread of its own for each ``args`` of ``arguments``; return
    what each call returned, in the order of ``arguments``. ``ready()`` returns once every thread
    has called it (or raises after ``ready_timeout`` seconds): each calls it just before the step
    that should race.

    Every thread must end within ``timeout`` seconds in all and answer: a thread still running
    fails the test, and the first exception a thread raised is raised here, so a hung or crashed
    thread cannot pass unseen.
    """
    barrier = threading.Barrier(len(arguments), timeout=ready_timeout)
    answers: dict[int, object] = {}
    errors: list[BaseException] = []

    def run(number, args):
        try:
            answers[number] = work(barrier.wait, *args)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n, args)) for n, args in enumerate(arguments)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    assert not any(thread.is_alive() for thread in threads), f"threads still running after {timeout} s"
    if errors:
        raise errors[0]
    return [answers[n] for n in range(len(arguments))]


def token_from(app, payload, secret=None, salt=TOKEN_SALT, age=TOKEN_WINDOW) -> str:
    """A form token as this site makes them, or a forged one: another secret, salt or slug, or old.
    (``age`` is at least a window: the site rounds the time down, and a token from the future fails.)"""

    class AgedSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age

    key = secret or app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(key, salt=salt, signer=AgedSigner).dumps(payload)


class _Collector(HTMLParser):
    """Collects the text of elements, the attributes of every element, and table rows."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []  # {"tag", "attrs", "text"}
        self.open: list[dict] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index]["tag"] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element["text"].append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse_html(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def texts(html: str, css_class: str) -> list[str]:
    """The text, white space folded, of each element carrying ``css_class``."""
    return [
        " ".join("".join(element["text"]).split())
        for element in parse_html(html).elements
        if css_class in (element["attrs"].get("class") or "").split()
    ]


def meta_content(html: str, key: str) -> str | None:
    """The content of ``<meta property=key>`` or ``<meta name=key>``."""
    for element in parse_html(html).elements:
        attrs = element["attrs"]
        if element["tag"] == "meta" and key in (attrs.get("property"), attrs.get("name")):
            return attrs.get("content")
    return None


def links(html: str) -> list[str]:
    """Every ``href`` of an ``<a>``, entities decoded."""
    return [
        e["attrs"]["href"] for e in parse_html(html).elements if e["tag"] == "a" and e["attrs"].get("href")
    ]


def table_rows(html: str) -> list[list[str]]:
    """The cells of every table row, as text."""
    return parse_html(html).rows
