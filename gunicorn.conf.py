"""gunicorn settings, read by `gunicorn wsgi:app` from the working directory.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os

bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Signing and page views are short and CPU-bound: two workers a core keep the CPUs busy while
# one waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# A sync worker streaming the signatory CSV is busy for the whole download: about 10-20 s a
# million rows here, so 120 s leaves room for several million.
timeout = 120
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so no slow leak can grow without bound. Not too often: a new
# worker spends about half a second of CPU starting and refills its caches (the page, the
# counts); at 20,000 a worker under a spike restarted every half minute, which showed in p99.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# No client address and no Referer: the privacy page says the access log holds neither the
# signer's address nor the emailed links, whose tokens the logger class takes out.
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logger_class = "petition.access_log.AccessLogger"
# Only the proxy on this host may say who the client is (nginx in deploy/).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket defaults to one path per user, which a second instance on the same
# host would take over; it is only on when a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
