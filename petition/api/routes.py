"""The public JSON API."""

from flask import Blueprint
from sqlalchemy import select

from ..extensions import db
from ..models import Petition, count_by_country, count_signatures
from ..petitions.routes import get_petition_or_404
from ..sharing import petition_url

bp = Blueprint("api", __name__)


def petition_summary(petition: Petition) -> dict:
    return {
        "slug": petition.slug,
        "title": petition.title,
        "url": petition_url(petition),
        "goal": petition.goal,
        "open": petition.is_open,
        "counts": count_signatures(petition),
    }


@bp.get("/petitions")
def list_petitions():
    petitions = db.session.scalars(select(Petition).order_by(Petition.created_at, Petition.id))
    return {"petitions": [petition_summary(petition) for petition in petitions]}


@bp.get("/petitions/<slug>")
def show_petition(slug):
    petition = get_petition_or_404(slug)
    return petition_summary(petition) | {"by_country": count_by_country(petition)}
