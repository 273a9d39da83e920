"""What the petition's views and the sign views both need: finding a petition, the few columns
that every request on it reads first, the petition page and the widget with a form, and the
redirect after a form. No routes here: :mod:`petition.signing` imports this module, never the
views."""

import dataclasses
import datetime as dt
import functools

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from ..cache import cached
from ..countries import country_name
from ..extensions import db
from ..models import Petition, Signature, count_signatures, public_record, utcnow
from ..sharing import petition_url, share_image_url, share_links
from ..signing.form_token import make_form_token
from ..signing.forms import clean_source
from . import services, translations

# The source the widget gives its link and its signatures.
EMBED_SOURCE = "embed"


def get_petition_or_404(slug: str) -> Petition:
    """The petition at ``slug``; a 404 if there is none."""
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        abort(404)
    return petition


@dataclasses.dataclass(frozen=True)
class Terms:
    """What a petition's public pages and its sign forms read first: a few columns of its row
    (the statement and the rest are read only to render a page), ``version`` among them."""

    id: int
    slug: str
    requires_confirmation: bool
    organizations_need_approval: bool
    closes_at: dt.datetime | None
    version: dt.datetime  # Petition.updated_at: part of the key of whatever shows its text
    # Quiet detection's thresholds and proof of work (see petition.signing.signals).
    network_hourly_limit: int
    domain_hourly_limit: int
    min_form_seconds: int
    proof_of_work: bool
    surge_until: dt.datetime | None
    statement_version: int  # the number of the text signers are shown now

    @property
    def is_open(self) -> bool:
        return self.closes_at is None or self.closes_at > utcnow()

    @property
    def asks_proof_of_work(self) -> bool:
        """Whether the sign form asks for a proof of work: switched on, or in a surge."""
        return self.proof_of_work or (self.surge_until is not None and self.surge_until > utcnow())


def terms_of(slug: str) -> Terms:
    """The :class:`Terms` of petition ``slug``, read at most once every
    ``PETITION_CHECK_SECONDS`` in each worker; a 404 if there is none.

    Reading the row on every request would cost a page view a third of its time; once a second,
    an edit reaches every worker within that second, and the version in their keys keeps any
    worker from serving what it cached of an older one.
    """

    def load():
        # A connection of its own, back in the pool before the signature takes one: a request
        # never holds two, whatever the pool's size.
        with db.engine.connect() as connection:
            row = connection.execute(
                select(
                    Petition.id,
                    Petition.slug,
                    Petition.requires_confirmation,
                    Petition.organizations_need_approval,
                    Petition.closes_at,
                    Petition.updated_at,
                    Petition.network_hourly_limit,
                    Petition.domain_hourly_limit,
                    Petition.min_form_seconds,
                    Petition.proof_of_work,
                    Petition.surge_until,
                    Petition.statement_version,
                ).where(Petition.slug == slug)
            ).first()
        if row is None:
            abort(404)
        return Terms(*row)

    return cached(("terms", slug), current_app.config["PETITION_CHECK_SECONDS"], load)


def see_other(endpoint: str, **values):
    """A 303 to ``url_for(endpoint, **values)``, the Post/Redirect/Get after a form; the address
    is built once per worker (on signing, building it was 3 % of a signature)."""
    return redirect(relative_url(request.script_root, endpoint, tuple(values.items())), code=303)


@functools.lru_cache(maxsize=1024)
def relative_url(script_root: str, endpoint: str, values: tuple) -> str:
    """``url_for(endpoint, **dict(values))``, which is the same for every request under
    ``script_root`` (the one part of a request that an address without a host depends on)
    and in every app (the routes come from the blueprints)."""
    return url_for(endpoint, **dict(values))


def latest_signatories(petition, limit: int):
    """The ``limit`` newest signatures on the public list."""
    query = Signature.listed(petition).order_by(Signature.id.desc()).limit(limit)
    return db.session.scalars(query).all()


def progress_percent(counts, petition) -> int:
    """How far the count has come towards the goal, 0 to 100."""
    return min(100, 100 * counts["total"] // petition.goal) if petition.goal > 0 else 100


def render_petition_page(petition, form, status=200, refused=False):
    """The petition page, with ``form`` either fresh or carrying its errors; ``refused`` when the
    form came back without a good token (too old, or not sent from this site)."""
    counts = count_signatures(petition)
    statement = translations.statement_for(petition, str(get_locale()))
    page = render_template(
        "petitions/show.html",
        petition=petition,
        statement=statement,
        statement_languages=translations.statement_languages(petition),
        # The page is shared between visitors: its language links keep only what it depends on.
        chooser_path=url_for("petitions.show", slug=petition.slug),
        chooser_query={"source": clean_source(form.source.data)},
        form=form,
        csrf_value=make_form_token(petition.slug),
        refused=refused,
        body=services.render_body(statement),
        counts=counts,
        record=public_record(petition),
        progress=progress_percent(counts, petition),
        latest=latest_signatories(petition, current_app.config["LATEST_SIGNATORIES"]),
        share_links=share_links(petition),
        canonical_url=petition_url(petition),
        share_image_url=share_image_url(petition, statement.language),
        share_url=petition_url(petition, source="link"),
        country_name=country_name,
    )
    return page, status


def render_widget(petition, form, status: int = 200, refused: bool = False):
    """The widget, with ``form`` fresh or carrying its errors, and a fresh form token."""
    counts = count_signatures(petition)
    page = render_template(
        "petitions/embed.html",
        petition=petition,
        form=form,
        counts=counts,
        progress=progress_percent(counts, petition),
        link=petition_url(petition, source=EMBED_SOURCE),
        embed_token=make_form_token(petition.slug),
        refused=refused,
    )
    return page, status
