"""Timing the signatory export: our CLI, our HTTP download, and the database's own dump tool."""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import client
from dataset import SLUG, Database, export_query, flask
from servers import ROOT, VENV_BIN, RssSampler, Server, rss_mb

TIMEOUT = 900
ORGANIZER = "bench-organizer@example.org"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway account in a throwaway database


def ensure_sqlite3() -> None:
    """Install Debian's sqlite3 shell when it is missing."""
    if shutil.which("sqlite3"):
        return
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "sqlite3"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        timeout=300,
    )


def time_v_field(report: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}: (.+)$", report, re.MULTILINE)
    return match.group(1) if match else ""


def count_lines(path: Path) -> int:
    with open(path, "rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


def timed_process(command: list[str], output: Path, env: dict, workdir: Path, stdout_to_output: bool) -> dict:
    """Run ``command`` under /usr/bin/time -v, watching ``output`` grow: first byte, total, peak RSS."""
    report_path = workdir / f"{output.stem}.time"
    timed = ["/usr/bin/time", "-v", "-o", str(report_path), *command]
    output.unlink(missing_ok=True)
    first_byte = None
    started = time.monotonic()
    with (
        open(output if stdout_to_output else os.devnull, "ab") as stdout,
        open(workdir / "stderr", "ab") as err,
    ):
        process = subprocess.Popen(timed, cwd=ROOT, env=env, stdout=stdout, stderr=err)
        while process.poll() is None and time.monotonic() - started < TIMEOUT:
            if first_byte is None and output.exists() and output.stat().st_size > 0:
                first_byte = time.monotonic() - started
            time.sleep(0.005)
        if process.poll() is None:
            process.kill()
        process.wait()
    total = time.monotonic() - started
    report = report_path.read_text()
    return {
        "exit_code": process.returncode,
        "first_byte_s": round(first_byte if first_byte is not None else total, 3),
        "total_s": round(total, 3),
        "peak_rss_mb": round(int(time_v_field(report, "Maximum resident set size (kbytes)") or 0) / 1024, 1),
        "lines": count_lines(output) if output.exists() else 0,
    }


def cli_export(env: dict, workdir: Path) -> dict:
    """``flask --app wsgi signatures export SLUG -o FILE``."""
    output = workdir / "cli-export.csv"
    command = [str(VENV_BIN / "flask"), "--app", "wsgi", "signatures", "export", SLUG, "-o", str(output)]
    return timed_process(command, output, env, workdir, stdout_to_output=False)


def baseline_export(db: Database, env: dict, workdir: Path) -> dict:
    """The same rows dumped by ``sqlite3 -csv`` (or psql's ``\\copy`` on PostgreSQL)."""
    output = workdir / "baseline-export.csv"
    if db.kind == "sqlite":
        ensure_sqlite3()
        command = ["sqlite3", "-csv", "-header", str(db.path), export_query(db)]
        tool = "sqlite3 -csv"
    else:
        copy = f"\\copy ({export_query(db)}) TO STDOUT WITH (FORMAT csv, HEADER)"
        command = ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", db.name, "-c", copy]
        tool = "psql \\copy"
    result = timed_process(command, output, env, workdir, stdout_to_output=True)
    result["tool"] = tool
    return result


def create_organizer(env: dict) -> None:
    """An organizer account for the HTTP download, made the documented way."""
    flask(env, "organizer", "create", ORGANIZER, stdin=PASSWORD + "\n")


def http_export(server: Server) -> dict:
    """Log in as an organizer and download the CSV, sampling the workers' RSS meanwhile."""
    cookie = client.log_in(server.port, ORGANIZER, PASSWORD)
    before = max((rss_mb(pid) for pid in server.worker_pids()), default=0.0)
    with RssSampler(server) as sampler:
        result = client.timed_download(server.port, f"/admin/p/{SLUG}/export.csv", cookie)
    result["worker_timeouts_in_log"] = server.log_count("WORKER TIMEOUT")
    result["worker_rss_before_mb"] = round(before, 1)
    result["peak_rss_mb"] = round(sampler.peak_mb, 1)
    return result
