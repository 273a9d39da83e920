"""Starting and stopping gunicorn for the benchmark, and watching its workers' memory."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
READY_SECONDS = 30
STOP_SECONDS = 25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def default_workers() -> int:
    """What gunicorn.conf.py picks without WEB_CONCURRENCY: two workers a core."""
    return (os.cpu_count() or 1) * 2


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(app: str, port: int, workers: int, chdir: Path | None = None) -> list[str]:
    """Our gunicorn settings file, with only the address and worker count set here.

    The control socket is turned off: two servers would otherwise share one default path.
    """
    command = [str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "--no-control-socket"]
    if chdir:
        command += ["--chdir", str(chdir)]
    return command + ["-w", str(workers), "-b", f"127.0.0.1:{port}", app]


class Server:
    """A gunicorn master we started, its port and its log."""

    def __init__(self, name: str, process: subprocess.Popen, port: int, log_path: Path):
        self.name = name
        self.process = process
        self.port = port
        self.log_path = log_path

    def worker_pids(self) -> list[int]:
        """The master's children: the workers (they change when gunicorn recycles one)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """CPU time of the master and every worker it has had (exited ones count through the
        master's reaped-children total), so recycled workers are not lost."""
        total = process_cpu_seconds(self.process.pid, reaped_children=True)
        return total + sum(process_cpu_seconds(pid) for pid in self.worker_pids())

    def log_count(self, text: str) -> int:
        """How many lines of the server's log contain ``text`` (e.g. WORKER TIMEOUT)."""
        return sum(text in line for line in self.log_path.read_text(errors="replace").splitlines())

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_ready(server: Server, path: str) -> None:
    """Poll ``path`` until it answers 200; fail early if gunicorn exits."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer {path} within {READY_SECONDS} s:\n{server.log_tail()}")


def stop(server: Server) -> None:
    """TERM the master (it stops its workers), then KILL its process group if it lingers."""
    process = server.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        # The group is the session start_new_session gave this master: only what we started.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def running(name: str, command: list[str], env: dict, log_path: Path, ready_path: str):
    """Run a server for the duration of the ``with`` block; always stop it."""
    port = int(command[command.index("-b") + 1].rsplit(":", 1)[1])
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, process, port, log_path)
    try:
        wait_until_ready(server, ready_path)
        yield server
    finally:
        stop(server)


def process_cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User and system time of ``pid`` from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14-17 of proc(5): utime, stime, cutime, cstime; the text after ")" starts at field 3.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler:
    """Samples the RSS of a server's workers in a thread; ``peak_mb`` is the largest seen."""

    def __init__(self, server: Server, interval: float = 0.05):
        self.server = server
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.server.worker_pids():
                self.peak_mb = max(self.peak_mb, rss_mb(pid))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join()
