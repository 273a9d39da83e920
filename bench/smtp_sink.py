"""An SMTP server on loopback for the mail benchmark (aiosmtpd): it accepts every message and
writes one line per message to a file, ``<unix time> <recipient>``, as it arrives.

    .venv/bin/python bench/smtp_sink.py PORT FILE
"""

import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Arrivals:
    def __init__(self, path: str):
        self.file = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        now = time.time()
        for recipient in envelope.rcpt_tos:
            self.file.write(f"{now:.6f} {recipient}\n")
        return "250 Message accepted for delivery"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Arrivals(path), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
