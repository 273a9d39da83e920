"""The signer's way out of updates: ``/unsubscribe/<token>``, beside the other emailed links.

Opening the link shows a page with a button (mail scanners open links). The POST is what mail
clients send for one-click unsubscription (RFC 8058: a body of ``List-Unsubscribe=One-Click``,
no cookies, no CSRF token), so that one route is exempt from CSRF: the signed token is the proof.
It has no rate limit either: mail providers post from a few addresses for all their users.
"""

from flask import render_template

from ..extensions import csrf, db
from ..signing import tokens
from ..signing.links import problem_page, signature_from
from . import bp, services

EXPIRED_STATUS = 410


def link_problem(problem: str):
    """The page for a link that does not work: expired, invalid, or its signature withdrawn."""
    if problem == "expired":
        return render_template("signing/unsubscribe.html", expired=True), EXPIRED_STATUS
    return problem_page(problem, tokens.UNSUBSCRIBE)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token):
    """The page with the button: opening a link changes nothing."""
    signature, problem = signature_from(token, tokens.UNSUBSCRIBE)
    if problem:
        return link_problem(problem)
    return render_template("signing/unsubscribe.html", signature=signature, petition=signature.petition)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_post(token):
    """Stop the news: from the page's button, or a mail client's one-click POST."""
    signature, problem = signature_from(token, tokens.UNSUBSCRIBE)
    if problem:
        return link_problem(problem)
    services.unsubscribe(signature)
    db.session.commit()
    return render_template("signing/unsubscribed.html", petition=signature.petition)
