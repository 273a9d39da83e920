"""``mail send --loop`` on every core: sender processes forked from the command, each with its
own database and SMTP connections, restarted if one dies, stopped together.

Processes, not threads: rendering and building a message is Python work that holds the GIL,
so threads in one process share one core however many there are.
"""

import logging
import multiprocessing
import multiprocessing.connection
import signal
import threading

from flask import current_app

from ..extensions import db
from .sender import run_worker

log = logging.getLogger(__name__)
STOP_SECONDS = 15


def run_workers(count: int, interval: float) -> None:
    """Run ``count`` senders until SIGTERM or SIGINT; only the first applies the retention rules."""
    if count <= 1:
        run_worker(interval=interval)
        return
    app = current_app._get_current_object()
    context = multiprocessing.get_context("fork")
    stopping = threading.Event()

    def start(number):
        process = context.Process(target=work, args=(app, number, interval), name=f"mail-sender-{number}")
        process.start()
        return process

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    processes = [start(number) for number in range(count)]
    log.info("mail senders started: %s processes", count)
    while not stopping.is_set():
        multiprocessing.connection.wait([process.sentinel for process in processes], timeout=1)
        for number, process in enumerate(processes):
            if not process.is_alive() and not stopping.is_set():
                log.warning("mail sender %s exited (status %s); starting another", number, process.exitcode)
                stopping.wait(interval)
                processes[number] = start(number)
    for process in processes:
        process.terminate()  # each finishes the batch in hand
    for process in processes:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()


def work(app, number: int, interval: float) -> None:
    """One sender process: its own connections, SIGTERM to stop after the batch in hand."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    # A parent killed outright (kill -9) cannot stop its children: they stop when it is gone.
    parent = multiprocessing.parent_process()
    threading.Thread(target=stop_with, args=(parent.sentinel, stop), daemon=True).start()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # the parent's pooled connections are not this process's
        run_worker(interval=interval, stop=stop, purge=number == 0)


def stop_with(sentinel, stop: threading.Event) -> None:
    multiprocessing.connection.wait([sentinel])
    stop.set()
