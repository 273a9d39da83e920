"""Many people signing at the same moment, against gunicorn with two workers: every signature is
kept once, with its email, and nobody sees an error page."""

import threading
from collections import Counter

import pytest

from petition.config import Config

from .web import SLUG, Visitor, app_environment, petition_json, run_in_threads

pytestmark = pytest.mark.production

SIGNERS = 64
RACERS = 24


def test_64_concurrent_signers_are_each_stored_once_with_one_email(database, servers):
    [server] = servers.start(app_environment(database.url))
    # Every signer opens the page first; the barrier then releases all the posts together.
    release = threading.Barrier(SIGNERS, timeout=90)

    def signer(i):
        visitor = Visitor(server)
        form = visitor.open_sign_form(name=f"Signer {i}", email=f"signer{i}@example.org")
        release.wait()
        return visitor.submit_signature(form)

    responses = run_in_threads(SIGNERS, signer)

    assert Counter(response.status for response in responses) == {303: SIGNERS}
    # Each to the check-email page, with the hint of its own address.
    assert {response.location.partition("?")[0] for response in responses} == {f"/p/{SLUG}/check-email"}
    rows = database.signatures()
    assert sorted(row.email for row in rows) == sorted(f"signer{i}@example.org" for i in range(SIGNERS))
    # The bundled petition counts a signature once its address is confirmed.
    assert {row.status for row in rows} == {"pending"}
    outbox = database.outbox_by_signature()
    for row in rows:
        assert outbox.get(row.id) == [("confirm", None, row.email)], row
    assert sum(len(messages) for messages in outbox.values()) == SIGNERS
    # Pending signatures are not counted yet; the API says so.
    assert petition_json(server)["counts"]["total"] == 0
    server.assert_no_server_errors()


def test_identical_requests_racing_store_one_signature(database, servers):
    [server] = servers.start(app_environment(database.url))
    release = threading.Barrier(RACERS, timeout=90)

    def racer(_i):
        visitor = Visitor(server)
        form = visitor.open_sign_form(email="racer@example.org")
        release.wait()
        return visitor.submit_signature(form)

    responses = run_in_threads(RACERS, racer)

    # Winner and losers get the same answer: the page reveals nothing about the address.
    assert Counter(response.status for response in responses) == {303: RACERS}
    [row] = database.signatures()
    assert row.email == "racer@example.org"
    # The confirmation, then repeats told by email up to the cap; the count matches what was queued.
    messages = database.outbox_by_signature()[row.id]
    assert 1 <= len(messages) == row.emails_sent <= Config.MAX_EMAILS_PER_SIGNATURE
    assert all(recipient == row.email for _purpose, _sent, recipient in messages)
    server.assert_no_server_errors()
