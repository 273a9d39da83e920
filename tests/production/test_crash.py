"""kill -9 in the middle of a load: what the site said it stored is stored, and no email is lost."""

import http.client
import threading
import time

import pytest

from .web import Visitor, app_environment

pytestmark = pytest.mark.production

SIGNERS = 8
LOAD_SECONDS = 1.0
MIN_ACCEPTED = 10


def test_kill_9_under_load_loses_no_accepted_signature_and_no_email(database, servers):
    env = app_environment(database.url)
    [server] = servers.start(env)
    stop = threading.Event()
    accepted: list[str] = []
    server_errors: list[tuple[str, int]] = []
    stopped: list[int] = []  # each signer that saw the stop and ended as it should

    def signer(n):
        for i in range(10_000):
            if stop.is_set():
                stopped.append(n)
                return
            email = f"load-{n}-{i}@example.org"
            try:
                response = Visitor(server).sign(email=email)
            except (OSError, http.client.HTTPException):
                # Killed under us: the request may or may not have been stored.
                time.sleep(0.05)
                continue
            if response.status == 303:
                accepted.append(email)
            elif response.status >= 500:
                server_errors.append((email, response.status))

    threads = [threading.Thread(target=signer, args=(n,), name=f"signer-{n}") for n in range(SIGNERS)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        # About a second of load, and enough signatures for the test to mean something.
        while time.monotonic() - started < 30 and (
            time.monotonic() - started < LOAD_SECONDS or len(accepted) < MIN_ACCEPTED
        ):
            time.sleep(0.05)
        server.kill()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a signer still running after the stop"
    assert sorted(stopped) == list(range(SIGNERS)), "a signer ended early (an error in its thread?)"
    assert server.process.returncode == -9
    assert server.live_processes() == [], "a worker survived the kill"
    assert len(accepted) >= MIN_ACCEPTED, server.log()[-3000:]
    assert not server_errors

    [restarted] = servers.start(env)

    stored = {row.email: row for row in database.signatures()}
    assert set(accepted) <= set(stored), "a signature answered with 303 is missing"
    outbox = database.outbox_by_signature()
    for row in stored.values():
        assert outbox.get(row.id) == [("confirm", None, row.email)], row
    assert sum(len(messages) for messages in outbox.values()) == len(stored)
    # The restarted site takes signatures again.
    assert Visitor(restarted).sign(email="after-restart@example.org").status == 303
    assert len(database.signatures("after-restart@example.org")) == 1
    restarted.assert_no_server_errors()
