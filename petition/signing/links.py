"""The links emailed to signers. Opening one shows a page with a button; only the POST acts,
because mail scanners open links."""

from flask import current_app, render_template

from ..extensions import db, limiter
from ..models import Signature
from . import bp, services, tokens

# Expired and withdrawn links are gone for good (410); a forged or mangled one was never here.
PROBLEM_STATUS = {"expired": 410, "gone": 410, "invalid": 404}


def signature_from(token: str, purpose: str):
    """The signature a token points to, or why there is none: expired, invalid or gone."""
    try:
        signature_id, fingerprint = tokens.read_token(token, purpose)
    except tokens.TokenExpired:
        return None, "expired"
    except tokens.TokenInvalid:
        return None, "invalid"
    signature = db.session.get(Signature, signature_id)
    if not tokens.token_matches(signature, fingerprint):
        return None, "gone"
    return signature, None


def problem_page(problem: str, purpose: str):
    page = render_template("signing/link_problem.html", problem=problem, purpose=purpose)
    return page, PROBLEM_STATUS[problem]


def confirmed_page(signature, changed: bool):
    return render_template(
        "signing/confirmed.html", signature=signature, petition=signature.petition, changed=changed
    )


@bp.get("/confirm/<token>")
def confirm(token):
    signature, problem = signature_from(token, tokens.CONFIRM)
    if problem:
        return problem_page(problem, tokens.CONFIRM)
    if signature.status != Signature.PENDING:
        return confirmed_page(signature, changed=False)
    return render_template("signing/confirm.html", signature=signature, petition=signature.petition)


def emailed_links_limit():
    return current_app.config["RATELIMIT_EMAILED_LINKS"]


@bp.post("/confirm/<token>")
@limiter.limit(emailed_links_limit)
def confirm_post(token):
    signature, problem = signature_from(token, tokens.CONFIRM)
    if problem:
        return problem_page(problem, tokens.CONFIRM)
    changed = services.confirm(signature)
    db.session.commit()
    return confirmed_page(signature, changed)


@bp.get("/withdraw/<token>")
def withdraw(token):
    signature, problem = signature_from(token, tokens.WITHDRAW)
    if problem:
        return problem_page(problem, tokens.WITHDRAW)
    return render_template("signing/withdraw.html", signature=signature, petition=signature.petition)


@bp.post("/withdraw/<token>")
@limiter.limit(emailed_links_limit)
def withdraw_post(token):
    signature, problem = signature_from(token, tokens.WITHDRAW)
    if problem:
        return problem_page(problem, tokens.WITHDRAW)
    petition = signature.petition
    services.withdraw(signature)
    db.session.commit()
    return render_template("signing/withdrawn.html", petition=petition)
