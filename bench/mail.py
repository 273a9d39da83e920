"""The confirmation email under a spike: how fast the mail sender drains the outbox, and how long
a signer waits for the email. Run by hand:

    .venv/bin/python bench/mail.py                  # SQLite, both phases (about 3 minutes)
    .venv/bin/python bench/mail.py --db postgres    # PostgreSQL database "bench", recreated
    .venv/bin/python bench/mail.py --phases drain --seconds 5

A fresh database with the bundled petition (confirmation by email), our app under gunicorn, and
an SMTP server on loopback (bench/smtp_sink.py, aiosmtpd) that notes when each message arrives.

  drain  sign as fast as the site takes it for --seconds with the sender stopped (the queue
         fills), then start the sender as `make run` and deploy/petition-mail.service do
         (`flask --app wsgi mail send --loop`) and time until every confirmation has arrived:
         delivery rate vs signing rate (target >= 0.5)
  spike  with the sender running, sign at --spike-rate a second for --spike-seconds; for each
         signature, the time from its 303 to its email reaching the SMTP server (p95 < 30 s)

Everything it starts is stopped, whatever happens.
"""

import argparse
import contextlib
import http.client
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import dataset
import host
import loadgen
import servers
from client import form_session
from run import PETITION_PATH, app_env

HERE = Path(__file__).resolve().parent
DRAIN_TARGET, SPIKE_P95_TARGET = 0.5, 30.0
ARRIVAL_TIMEOUT = 600
SPIKE_THREADS = 16


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--phases", default="drain,spike", help="comma-separated: drain,spike")
    parser.add_argument("--seconds", type=int, default=5, help="signing at full speed, drain phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=servers.default_workers(), help="gunicorn workers")
    parser.add_argument("--spike-rate", type=int, default=300, help="signatures a second, spike phase")
    parser.add_argument("--spike-seconds", type=int, default=60)
    parser.add_argument(
        "--sender-workers", type=int, default=None, help="FLASK_MAIL_WORKERS for the sender (default: unset)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    args = parser.parse_args(argv)
    args.phases = [phase for phase in args.phases.split(",") if phase]
    return args


class Arrivals:
    """The SMTP sink's file: when each recipient's email arrived, read as it grows."""

    def __init__(self, path: Path):
        self.path = path
        self.arrived: dict[str, float] = {}
        self.offset = 0

    def read(self) -> dict[str, float]:
        with open(self.path, "rb") as file:
            file.seek(self.offset)
            chunk = file.read()
        complete = chunk.rfind(b"\n") + 1  # a line being written waits for the next read
        self.offset += complete
        for line in chunk[:complete].decode().splitlines():
            moment, recipient = line.split(" ", 1)
            self.arrived.setdefault(recipient, float(moment))
        return self.arrived

    def wait_for_count(self, count: int, timeout: float = ARRIVAL_TIMEOUT) -> dict[str, float]:
        """Poll until ``count`` emails have arrived (or the timeout); what arrived."""
        deadline = time.monotonic() + timeout
        while len(self.read()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return dict(self.arrived)

    def wait_for(self, recipients: set[str], timeout: float = ARRIVAL_TIMEOUT) -> dict[str, float]:
        """Poll until every one of ``recipients`` has arrived (or the timeout); what arrived."""
        deadline = time.monotonic() + timeout
        while not recipients <= self.read().keys() and time.monotonic() < deadline:
            time.sleep(0.1)
        return dict(self.arrived)


@contextlib.contextmanager
def running(command: list[str], env: dict, log_path: Path):
    """A process for the duration of the ``with`` block, stopped by SIGTERM (then SIGKILL)."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, cwd=servers.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=servers.STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def sender_command() -> list[str]:
    """The sender exactly as `make run` and deploy/petition-mail.service start it."""
    return [str(servers.VENV_BIN / "flask"), "--app", "wsgi", "mail", "send", "--loop"]


def sign_request(port: int, session: dict, email: str) -> int:
    """POST the sign form once on a new connection; the status."""
    body = loadgen.SIGN_BODY.format(
        token=urllib.parse.quote(session["csrf_token"]), email=urllib.parse.quote(email)
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            f"{PETITION_PATH}/sign",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": session["cookie"]},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def drain_phase(ours, db, env, workdir: Path, arrivals: Arrivals, args) -> dict:
    """Sign at full speed with no sender running, then time the sender's drain of the outbox."""
    cookie, token = form_session(ours.port, PETITION_PATH)
    url = f"http://127.0.0.1:{ours.port}{PETITION_PATH}/sign"
    stamp = int(time.time())
    loadgen.run_wrk(
        url, args.connections, 2, sign={"csrf_token": token, "cookie": cookie, "run": f"warm-{stamp}"}
    )
    sign = {"csrf_token": token, "cookie": cookie, "run": f"drain-{stamp}"}
    server_before, database_before = ours.cpu_seconds(), host.database_backends_cpu(db.name)
    signing = loadgen.run_wrk(url, args.connections, args.seconds, sign=sign)
    signing_cpu = ours.cpu_seconds() - server_before
    signing_cpu += host.database_cpu_between(database_before, host.database_backends_cpu(db.name))
    signed = signing["statuses"].get("303", 0)
    signing_rate = signed / signing["seconds"]
    # The sender has every queued email to send, the warm-up's too; so does this count.
    queued = db.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    print(f"  signed at {signing_rate:.0f}/s; {queued} emails queued", flush=True)
    database_before = host.database_backends_cpu(db.name)
    started, cpu_before = time.time(), children_cpu_seconds()
    with running(sender_command(), env, workdir / "sender-drain.log"):
        arrived = sorted(arrivals.wait_for_count(queued).values())
        # Read before the sender stops: its PostgreSQL backends end with it.
        database_cpu = host.database_cpu_between(database_before, host.database_backends_cpu(db.name))
    # The sender and its workers (reaped once stopped) and the database's work for them: CPU per
    # email, which a busy host changes far less than the rate (Python's start-up included).
    sender_cpu = children_cpu_seconds() - cpu_before + database_cpu
    signing_cpu_ms = 1000 * signing_cpu / max(signed, 1)
    sender_cpu_ms = 1000 * sender_cpu / max(len(arrived), 1)
    drain_s = arrived[-1] - started if arrived else float("inf")
    rate = len(arrived) / drain_s
    steady = (len(arrived) - 1) / (arrived[-1] - arrived[0]) if len(arrived) > 1 else 0.0
    return {
        "signing_rate": round(signing_rate, 1),
        "signing_p99_ms": signing["latency_ms"]["p99"],
        "queued": queued,
        "delivered": len(arrived),
        "drain_s": round(drain_s, 2),
        "first_email_after_s": round(arrived[0] - started, 2) if arrived else None,
        "delivery_rate": round(rate, 1),
        "delivery_rate_after_first": round(steady, 1),
        "ratio": round(rate / signing_rate, 2) if signing_rate else 0.0,
        "ratio_after_first": round(steady / signing_rate, 2) if signing_rate else 0.0,
        "signing_cpu_ms_per_signature": round(signing_cpu_ms, 2),
        "sender_cpu_ms_per_email": round(sender_cpu_ms, 2),
        # Emails sent per signature taken if each had the machine to itself.
        "ratio_by_cpu": round(signing_cpu_ms / sender_cpu_ms, 2) if sender_cpu_ms else 0.0,
    }


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have ended (and of theirs, once reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spike_phase(ours, env, workdir: Path, arrivals: Arrivals, args) -> dict:
    """Sign at a steady rate with the sender running; the time from each 303 to its email."""
    cookie, token = form_session(ours.port, PETITION_PATH)
    session = {"csrf_token": token, "cookie": cookie}
    run = f"spike-{int(time.time())}"
    answered: dict[str, float] = {}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    interval = SPIKE_THREADS / args.spike_rate
    begin = time.monotonic() + 1
    end = begin + args.spike_seconds

    def signer(number: int) -> None:
        slot = begin + number * interval / SPIKE_THREADS
        sent = 0
        while slot < end:
            pause = slot - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent += 1
            email = f"{run}-{number}-{sent}@example.org"
            try:
                status = sign_request(ours.port, session, email)
            except (OSError, http.client.HTTPException):
                status = 0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 303:
                    answered[email] = time.time()
            slot += interval

    with running(sender_command(), env, workdir / "sender-spike.log"):
        time.sleep(2)  # the sender's start is the drain phase's business, not the spike's
        busy_before = host.busy_cores(1)
        threads = [threading.Thread(target=signer, args=(n,)) for n in range(SPIKE_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        arrived = arrivals.wait_for(set(answered))
    waits = sorted(arrived[email] - moment for email, moment in answered.items() if email in arrived)
    cuts = statistics.quantiles(waits, n=100) if len(waits) > 1 else [0.0] * 99
    return {
        "rate_asked": args.spike_rate,
        "rate_answered": round(len(answered) / args.spike_seconds, 1),
        "statuses": {str(status): count for status, count in statuses.items()},
        "emails_arrived": len(waits),
        "emails_missing": len(answered) - len(waits),
        "wait_s": {
            "p50": round(cuts[49], 2),
            "p95": round(cuts[94], 2),
            "max": round(max(waits, default=0.0), 2),
        },
        "busy_cores_before": round(busy_before, 2),
    }


def report(results: dict) -> bool:
    ok = True
    print()
    if "drain" in results:
        drain = results["drain"]
        met = drain["ratio"] >= DRAIN_TARGET and drain["delivered"] >= drain["queued"]
        ok &= met
        print(
            f"drain: signed at {drain['signing_rate']}/s; delivered {drain['delivered']}/{drain['queued']} "
            f"in {drain['drain_s']} s from the sender's start ({drain['delivery_rate']}/s, first email after "
            f"{drain['first_email_after_s']} s; {drain['delivery_rate_after_first']}/s from then on)\n"
            f"  delivery / signing: {drain['ratio']} (from the first email: {drain['ratio_after_first']}); "
            f"target >= {DRAIN_TARGET}: {'met' if met else 'MISSED'}; "
            f"by CPU: {drain['ratio_by_cpu']} (signing {drain['signing_cpu_ms_per_signature']} ms a "
            f"signature, sender {drain['sender_cpu_ms_per_email']} ms an email, databases included)"
        )
    if "spike" in results:
        spike = results["spike"]
        met = spike["wait_s"]["p95"] < SPIKE_P95_TARGET and spike["emails_missing"] == 0
        ok &= met
        print(
            f"spike: {spike['rate_answered']}/s signed for the {spike['rate_asked']}/s asked "
            f"{spike['statuses']}; 303 to SMTP server p50 {spike['wait_s']['p50']} s, p95 "
            f"{spike['wait_s']['p95']} s, max {spike['wait_s']['max']} s; missing {spike['emails_missing']}; "
            f"target p95 < {SPIKE_P95_TARGET} s: {'met' if met else 'MISSED'}"
        )
    return ok


def main(argv=None) -> int:
    args = parse_args(argv)
    if "drain" in args.phases and not loadgen.ensure_wrk():
        print("the drain phase needs wrk: apt-get install -y wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = {"database": args.db, "settings": vars(args), "cpus": os.cpu_count()}
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="petition-bench-mail-"))
        if not args.keep:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print(f"work folder {workdir}; {args.workers} gunicorn workers; {args.db}", flush=True)
        db = dataset.create(args.db, workdir)
        smtp_port = servers.free_port()
        env = {**app_env(db.url, workdir), "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}
        if args.sender_workers:
            env["FLASK_MAIL_WORKERS"] = str(args.sender_workers)
        dataset.prepare(env)
        arrivals = Arrivals(workdir / "arrivals.txt")
        arrivals.path.touch()
        sink = [sys.executable, str(HERE / "smtp_sink.py"), str(smtp_port), str(arrivals.path)]
        stack.enter_context(running(sink, env, workdir / "smtp.log"))
        command = servers.gunicorn_command("wsgi:app", servers.free_port(), args.workers)
        ours = stack.enter_context(servers.running("ours", command, env, workdir / "ours.log", "/healthz"))
        if "drain" in args.phases:
            print("drain: signing with the sender stopped, then the sender", flush=True)
            results["drain"] = drain_phase(ours, db, env, workdir, arrivals, args)
            print(f"  {results['drain']}", flush=True)
        if "spike" in args.phases:
            print(
                f"spike: {args.spike_rate} signatures/s for {args.spike_seconds} s, sender running",
                flush=True,
            )
            results["spike"] = spike_phase(ours, env, workdir, arrivals, args)
            print(f"  {results['spike']}", flush=True)
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
