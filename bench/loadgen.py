"""Load: wrk with the Lua scripts beside this file, or a slower Python fallback without it."""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIGN_BODY = "csrf_token={token}&kind=individual&name=Bench+Signer&email={email}&country=PE&public=y"


def ensure_wrk() -> bool:
    """Whether wrk is available, installing Debian's package when it is missing."""
    if shutil.which("wrk"):
        return True
    print("wrk is missing: apt-get install -y wrk")
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired):
        pass
    return shutil.which("wrk") is not None


def run_wrk(url: str, connections: int, seconds: int, sign: dict | None = None, nice: int = 0) -> dict:
    """One wrk run against ``url``; with ``sign`` (csrf_token, cookie, run), POST the sign form.
    ``nice`` lowers wrk's CPU priority (see bench/nginx.py for why)."""
    script = HERE / ("sign.lua" if sign else "wrk_report.lua")
    env = dict(os.environ)
    if sign:
        env.update(BENCH_CSRF_TOKEN=sign["csrf_token"], BENCH_COOKIE=sign["cookie"], BENCH_RUN=sign["run"])
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    completed = subprocess.run(
        command + ["-s", str(script), url], env=env, capture_output=True, text=True, timeout=seconds + 60
    )
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line.removeprefix("BENCH_JSON "))
            result["requests_per_s"] = result["requests"] / result["seconds"]
            return result
    raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")


def python_request(sign: dict | None, number: int, sent: int) -> tuple[str, str | None, dict]:
    """Method, body and headers of one request: a GET, or the sign form with a fresh address."""
    if not sign:
        return "GET", None, {}
    email = urllib.parse.quote(f"bench-{sign['run']}-{number}-{sent}@example.org")
    body = SIGN_BODY.format(token=urllib.parse.quote(sign["csrf_token"]), email=email)
    return "POST", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": sign["cookie"]}


def run_python(url: str, connections: int, seconds: int, sign: dict | None = None, nice: int = 0) -> dict:
    """The same figures as ``run_wrk`` from Python threads: it shares the two cores with the
    servers and holds the GIL, so it understates what the servers can do. ``nice`` is ignored."""
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + seconds
    latencies, statuses, errors, lock = [], Counter(), Counter(), threading.Lock()
    started = time.monotonic()

    def worker(number: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        sent = 0
        while time.monotonic() < deadline:
            sent += 1
            method, body, headers = python_request(sign, number, sent)
            began = time.monotonic()
            try:
                connection.request(method, parts.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()  # reconnects on the next request
                with lock:
                    errors["socket"] += 1
                continue
            with lock:
                latencies.append((time.monotonic() - began) * 1000)
                statuses[response.status] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    result = python_summary(latencies, statuses, time.monotonic() - started)
    result["socket_errors"] = errors["socket"]
    return result


def python_summary(latencies: list[float], statuses: Counter, elapsed: float) -> dict:
    """The fallback's figures in the shape wrk_report.lua prints."""
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "sent": len(latencies),
        "statuses": {str(status): n for status, n in statuses.items()},
        "non_2xx_3xx": sum(n for status, n in statuses.items() if not 200 <= status < 400),
        "socket_errors": 0,
        "timeouts": 0,
        "latency_ms": {"p50": cuts[49], "p90": cuts[89], "p99": cuts[98], "max": max(latencies, default=0)},
        "requests_per_s": len(latencies) / elapsed,
    }


def load_driver():
    """``run_wrk`` when wrk is (or can be made) available, else the Python fallback."""
    if ensure_wrk():
        return "wrk", run_wrk
    print("wrk unavailable: using the Python load driver (figures are lower bounds)")
    return "python", run_python
