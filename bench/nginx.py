"""The real front door: Debian's nginx with the shipped site file (deploy/nginx.conf), adapted
to plain HTTP on loopback, in front of our gunicorn; and a signer that posts the sign form at a
fixed rate while the page is read.

The site file is adapted here, from the shipped text, so that the bench measures what is
deployed: the one server that proxies to the app is kept, its TLS lines dropped and its listen
lines replaced by one on 127.0.0.1; the other servers (the 444 defaults, the redirect to HTTPS)
go; the upstream, the cache, the logs and the static folder point into the run's folder and the
checkout. Everything else (the microcache, its bypasses, the proxy settings) is as shipped.
"""

import contextlib
import http.client
import itertools
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

from loadgen import SIGN_BODY
from servers import ROOT, Server, stop, wait_until_ready

SHIPPED_SITE = ROOT / "deploy" / "nginx.conf"
MIME_TYPES = Path("/etc/nginx/mime.types")
SIGNER_THREADS = 64
SIGNER_TIMEOUT = 10
# wrk stands for readers who are elsewhere on a real site; here it shares the cores with the
# servers. Pushing nginx to the machine's limit at normal priority, it took the CPU the signatures
# needed (the signer fell to 115-165 a second); at the lowest priority it takes what is left.
WRK_NICE = 19


def ensure_nginx() -> str | None:
    """The nginx binary, installing Debian's package when it is missing (None if that fails)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found:
        return found
    print("nginx is missing: apt-get install -y nginx", flush=True)
    try:
        # Debian's policy-rc.d (or its absence) decides whether the package starts the system
        # nginx; this run starts its own, on its own port, either way.
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "nginx"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired):
        pass
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def braces(line: str) -> int:
    """How much ``line`` opens (+) or closes (-) blocks, ignoring quoted text and comments."""
    depth, quote = 0, None
    for char in line:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
    return depth


def top_level_blocks(text: str) -> list[tuple[bool, list[str]]]:
    """The file as (is_server_block, lines) pieces: each top-level ``server { … }`` on its own,
    everything between them as other pieces."""
    pieces, current, depth, in_server = [], [], 0, False
    for line in text.splitlines():
        starts_server = depth == 0 and re.match(r"\s*server\s*\{", line)
        if starts_server:
            if current:
                pieces.append((False, current))
            current, in_server = [], True
        current.append(line)
        depth += braces(line)
        if in_server and depth == 0:
            pieces.append((True, current))
            current, in_server = [], False
    if current:
        pieces.append((in_server, current))
    return pieces


def substitute(pattern: str, replacement: str, text: str) -> str:
    """``re.sub`` that fails loudly when the shipped file no longer has what it replaces."""
    changed, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if not count:
        raise RuntimeError(f"deploy/nginx.conf: nothing matches {pattern!r}; update bench/nginx.py")
    return changed


def plain_http_site(shipped: str, listen_port: int, app_port: int, folder: Path) -> str:
    """The shipped site file served on http://127.0.0.1:``listen_port``, proxying to our gunicorn
    on ``app_port``, with its cache and logs in ``folder``."""
    kept = []
    for is_server, lines in top_level_blocks(shipped):
        if not is_server:
            kept += lines
            continue
        if not any(re.match(r"\s*proxy_pass\b", line) for line in lines):
            continue  # the 444 defaults and the redirect to HTTPS
        listened = False
        for line in lines:
            if re.match(r"\s*listen\b", line):
                if not listened:
                    kept.append(f"    listen 127.0.0.1:{listen_port} default_server;")
                    listened = True
            elif not re.match(r"\s*ssl_", line):
                kept.append(line)
    site = "\n".join(kept) + "\n"
    site = substitute(r"^(proxy_cache_path\s+)\S+", rf"\g<1>{folder / 'cache'}", site)
    site = substitute(r"^(\s*server\s+)127\.0\.0\.1:\d+", rf"\g<1>127.0.0.1:{app_port}", site)
    site = substitute(r"(_log\s+)/var/log/nginx/", rf"\g<1>{folder}/", site)
    site = substitute(r"(\balias\s+)/srv/petition/static/", rf"\g<1>{ROOT / 'static'}/", site)
    return site


def main_config(folder: Path) -> str:
    """The http{} around the site, as Debian's /etc/nginx/nginx.conf sets it, with every path in
    ``folder``; in the foreground, so the run owns the master process."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # the workers must write in ``folder``
    temp = "\n".join(
        f"    {kind}_temp_path {folder / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
{user}worker_processes auto;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"};
events {{ worker_connections 1024; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
{temp}
    include {folder / "site.conf"};
}}
"""


@contextlib.contextmanager
def running(binary: str, listen_port: int, app_port: int, folder: Path):
    """nginx in front of our gunicorn for the duration of the ``with`` block; always stopped."""
    (folder / "temp").mkdir(parents=True, exist_ok=True)
    site = plain_http_site(SHIPPED_SITE.read_text(), listen_port, app_port, folder)
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(main_config(folder))
    command = [binary, "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the adapted site file:\n{checked.stderr}")
    with open(folder / "stderr.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("nginx", process, listen_port, folder / "error.log")
    try:
        wait_until_ready(server, "/healthz")
        yield server
    finally:
        stop(server)


class FrontDoor:
    """nginx and the gunicorn behind it, as one target for ``run.load``: its CPU is both's."""

    name = "nginx"

    def __init__(self, proxy: Server, app: Server):
        self.proxy, self.app = proxy, app
        self.port = proxy.port

    def cpu_seconds(self) -> float:
        return self.proxy.cpu_seconds() + self.app.cpu_seconds()


class PacedSigner:
    """POSTs the sign form to ``url`` at ``rate`` a second, each with a new address, on a fixed
    schedule whatever the answers take (open loop): request n is due at start + n / rate, and
    is sent as soon as one of the threads is free. A slow server makes requests late and, once
    every thread waits on it, lowers the achieved rate; it never slows the schedule itself."""

    def __init__(self, url: str, rate: float, token: str, cookie: str, run: str):
        self.parts = urllib.parse.urlsplit(url)
        self.rate, self.token, self.cookie, self.run = rate, token, cookie, run
        self.statuses, self.errors = Counter(), Counter()
        self.latencies, self.lateness = [], []
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(SIGNER_THREADS)]

    def _request(self, number: int) -> tuple[str, dict]:
        email = urllib.parse.quote(f"nginx-{self.run}-{number}@example.org")
        body = SIGN_BODY.format(token=urllib.parse.quote(self.token), email=email)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        return body, headers

    def _work(self) -> None:
        connection = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=SIGNER_TIMEOUT)
        while True:
            with self._lock:
                number = self._next
                self._next += 1
            due = self.started + number / self.rate
            if self._stop.wait(max(0.0, due - time.monotonic())):
                break
            body, headers = self._request(number)
            began = time.monotonic()
            try:
                connection.request("POST", self.parts.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()  # reconnects on the next request
                with self._lock:
                    self.errors[type(error).__name__] += 1
                continue
            with self._lock:
                self.latencies.append((time.monotonic() - began) * 1000)
                self.lateness.append((began - due) * 1000)
                self.statuses[response.status] += 1
        connection.close()

    def __enter__(self):
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self.window = time.monotonic() - self.started
        for thread in self._threads:
            thread.join(SIGNER_TIMEOUT + 5)
        self.stuck = sum(thread.is_alive() for thread in self._threads)

    def summary(self) -> dict:
        answered = sum(self.statuses.values())
        latencies = sorted(self.latencies) or [0.0]
        return {
            "rate": self.rate,
            "sent": answered + sum(self.errors.values()),
            "answered": answered,
            # Requests started in the window, all answered by the end of the join.
            "achieved_per_s": answered / self.window,
            "statuses": {str(status): n for status, n in self.statuses.items()},
            "non_2xx_3xx": sum(n for status, n in self.statuses.items() if not 200 <= status < 400),
            "errors": dict(self.errors),
            "threads_stuck": self.stuck,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max_late_ms": max(self.lateness, default=0.0),
        }


def with_signer(driver, rate: float, token: str, cookie: str, stamp: str):
    """``driver`` (wrk on the page) with a :class:`PacedSigner` on the same server's sign form
    for the length of each run; the signer's figures go in the run's result under "signer"."""
    runs = itertools.count()

    def drive(url: str, connections: int, seconds: int, sign=None) -> dict:
        with PacedSigner(f"{url}/sign", rate, token, cookie, f"{stamp}-{next(runs)}") as signer:
            result = driver(url, connections, seconds, nice=WRK_NICE)
        result["signer"] = signer.summary()
        return result

    return drive


def signer_totals(summary: dict) -> dict:
    """The signer's figures over the warm-up and every run of one target."""
    runs = [summary["warmup"], *summary["runs"]]
    signers = [run["signer"] for run in runs]
    statuses = Counter()
    for signer in signers:
        statuses.update(signer["statuses"])
    return {
        "sent": sum(signer["sent"] for signer in signers),
        "statuses": dict(statuses),
        "errors": sum(signer["non_2xx_3xx"] + sum(signer["errors"].values()) for signer in signers),
        "threads_stuck": sum(signer["threads_stuck"] for signer in signers),
        # Judged on the measured runs; the warm-up is short and starts cold.
        "achieved_per_s": min(run["signer"]["achieved_per_s"] for run in summary["runs"]),
        "p99_ms": max(run["signer"]["p99_ms"] for run in summary["runs"]),
        "max_late_ms": max(run["signer"]["max_late_ms"] for run in summary["runs"]),
    }
