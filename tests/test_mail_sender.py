"""The sender under load and under failure: batches, one SMTP connection kept across them and
opened again when the server drops it, several sender processes at once, and a sender killed
mid-batch. Real SMTP servers on loopback (aiosmtpd), the real database, real processes."""

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.extensions import db as _db
from petition.mail.sender import LEASE_SECONDS, send_due
from petition.mail.transport import Mailer
from petition.models import OutboxMessage, Signature, utcnow

from .conftest import MailSink, free_port
from .support import store_signature
from .test_mail import outbox

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60


class CountingSink(MailSink):
    """Keeps each message's connection (the client's address and port) and can hold one message
    unanswered (``hold_at``, counting from 1) until ``release`` is set."""

    def __init__(self, port: int, expected: int = 0, hold_at: int = 0):
        super().__init__(port)
        self.peers = []
        self.expected, self.hold_at = expected, hold_at
        self.all_arrived, self.holding, self.release = threading.Event(), threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.peers.append(session.peer)
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT_SECONDS)
        if len(self.messages) >= self.expected:
            self.all_arrived.set()
        return answer


@pytest.fixture
def sink_factory():
    sinks = []

    def start(**kwargs):
        sink = CountingSink(free_port(), **kwargs)
        sink.start()
        sinks.append(sink)
        return sink

    yield start
    for sink in sinks:
        sink.release.set()
        sink.stop()


def queue_confirmations(app, slug, count) -> list[str]:
    """``count`` signatures awaiting confirmation, each with its email in the outbox."""
    return [
        f"signer{number}@example.org"
        for number in range(count)
        if store_signature(app, slug, Signature.PENDING, email=f"signer{number}@example.org")
    ]


def sender_command(db_url, smtp, *args, **env) -> subprocess.Popen:
    """``flask --app wsgi mail send ARGS`` in a process of its own, on the test database."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    environment.update(
        DATABASE_URL=db_url,
        SMTP_URL=smtp.url,
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        FLASK_PURGE_INTERVAL_SECONDS="0",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "send", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_a_pass_sends_one_batch_and_the_next_pass_the_rest(make_app, sink_factory, bundled_petition):
    smtp = sink_factory()
    app = make_app(SMTP_URL=smtp.url)
    queue_confirmations(app, bundled_petition.slug, 7)

    with app.app_context():
        assert send_due(limit=5) == (5, 0)
        assert send_due(limit=5) == (2, 0)
        assert send_due(limit=5) == (0, 0)
    assert len(smtp.messages) == 7
    assert len(set(smtp.peers)) == 2, "one connection a batch when the pass opens its own"


def test_the_connection_stays_open_across_batches_and_reopens_when_dropped(
    make_app, sink_factory, bundled_petition
):
    smtp = sink_factory()
    app = make_app(SMTP_URL=smtp.url)
    with app.app_context():
        mailer = Mailer()
        try:
            queue_confirmations(app, bundled_petition.slug, 4)
            assert send_due(limit=2, mailer=mailer) == (2, 0)
            assert send_due(limit=2, mailer=mailer) == (2, 0)
            assert len(set(smtp.peers)) == 1

            smtp.stop()  # the server goes away, and comes back
            smtp.start()
            store_signature(app, bundled_petition.slug, Signature.PENDING, email="late@example.org")
            assert send_due(mailer=mailer) == (1, 0)
        finally:
            mailer.close()
    assert len(set(smtp.peers)) == 2
    assert smtp.messages[-1]["To"] == "late@example.org"


def test_two_sender_commands_at_once_send_each_message_once(db_url, app, sink_factory, bundled_petition):
    recipients = queue_confirmations(app, bundled_petition.slug, 240)
    smtp = sink_factory(expected=len(recipients))

    loop = ("--loop", "--workers", "2", "--interval", "0.2")
    senders = [sender_command(db_url, smtp, *loop) for _ in range(2)]
    try:
        arrived = smtp.all_arrived.wait(WAIT_SECONDS)
    finally:
        for sender in senders:
            sender.send_signal(signal.SIGTERM)
        logs = [sender.communicate(timeout=WAIT_SECONDS)[1] for sender in senders]

    assert arrived, logs
    assert sorted(message["To"] for message in smtp.messages) == sorted(recipients)
    assert all(sender.returncode == 0 for sender in senders), logs
    assert not any("database is locked" in log or "Traceback" in log for log in logs), logs
    rows = outbox(app)
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)


def test_a_sender_killed_mid_batch_repeats_at_most_the_message_in_flight(
    db_url, make_app, sink_factory, bundled_petition
):
    smtp = sink_factory(hold_at=3)
    app = make_app(SMTP_URL=smtp.url)
    recipients = queue_confirmations(app, bundled_petition.slug, 8)
    sender = sender_command(db_url, smtp)
    try:
        assert smtp.holding.wait(WAIT_SECONDS), "the third message never reached the server"
        os.killpg(sender.pid, signal.SIGKILL)  # while the server holds the third message
    finally:
        sender.communicate(timeout=WAIT_SECONDS)
        smtp.release.set()

    rows = outbox(app)
    assert [row.recipient for row in rows if row.sent_at] == recipients[:2]
    assert all(row.locked_until > utcnow() for row in rows if not row.sent_at), "still leased"
    with app.app_context():
        assert send_due() == (0, 0), "nobody takes a leased message before its lease ends"
        after_the_lease = utcnow() + dt.timedelta(seconds=LEASE_SECONDS + 1)
        assert send_due(now=after_the_lease) == (6, 0)

    received = Counter(message["To"] for message in smtp.messages)
    assert set(received) == set(recipients), "nothing is lost"
    assert {to: n for to, n in received.items() if n > 1} == {recipients[2]: 2}, "only the one in flight"
    with app.app_context():
        unsent = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        assert _db.session.scalars(unsent).all() == []
