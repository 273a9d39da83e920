"""Measure our app against a minimal Flask app (the floor) and the database's own tools.

    .venv/bin/python bench/run.py                  # SQLite, every phase (about 6 minutes)
    .venv/bin/python bench/run.py --db postgres    # PostgreSQL database "bench", recreated
    .venv/bin/python bench/run.py --db postgres --pg-database bench_mine   # another one
    .venv/bin/python bench/run.py --phases sign --runs 1 --seconds 5

One run: a fresh database, our migrations and seed, our app and bench/floor_app.py under the
same gunicorn settings, then the phases in this order (each bounded in time):

  page    GET /p/<slug> vs the floor's hello world, with 0 signatures
  sign    the full sign form POST vs the floor's POST; stored rows checked against the 303s
          (on PostgreSQL, also vs the same floor writing to PostgreSQL: floor-pg)
  nginx   GET /p/<slug> through nginx (deploy/nginx.conf on plain HTTP) vs gunicorn alone,
          while the sign form is POSTed at --sign-rate a second; then every signature is
          looked for in the database and the petition's count checked against the rows
  page    again with --rows confirmed signatures inserted directly
  export  the same rows by our CLI and over HTTP, vs sqlite3 -csv (psql \\copy on PostgreSQL)

It prints a table of medians and ratios and writes everything to bench/results/*.json.
Both servers are always stopped, whatever happens.
"""

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import dataset
import exports
import host
import loadgen
import nginx
import report
import servers
from client import form_session, request

HERE = Path(__file__).resolve().parent
PETITION_PATH = f"/p/{dataset.SLUG}"
PHASES = ("page", "sign", "nginx", "export")
WARMUP_SECONDS = 2
RATELIMIT_STORAGES = {"off": None, "memory": "memory://", "redis": "redis://127.0.0.1:6379"}
# Both windows of the shipped RATELIMIT_SIGN, each counted on every request, never reached.
UNREACHED_SIGN_LIMIT = "1000000 per minute;100000000 per hour"
# Each worker keeps a petition's signing terms this long (PAGE_CACHE_SECONDS), and a little more.
TERMS_SECONDS = 6
# How long the count may take to show every stored signature: the app's and nginx's lifetimes.
COUNT_SECONDS = 15


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--pg-database",
        default="bench",
        help="with --db postgres, the database dropped and recreated (on a shared host, a name "
        "no other run uses)",
    )
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated: " + ",".join(PHASES))
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    parser.add_argument("--runs", type=int, default=3, help="load runs per target; medians are reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=servers.default_workers(), help="for both apps")
    parser.add_argument("--rows", type=int, default=1_000_000, help="signatures for page and export")
    parser.add_argument(
        "--sign-rate", type=float, default=200, help="signatures a second during the nginx phase"
    )
    parser.add_argument(
        "--ratelimit",
        choices=RATELIMIT_STORAGES,
        default="off",
        help="our app's signing rate limit: off (the default), or counted as in production, in each "
        "worker's memory or in Redis (127.0.0.1:6379), with limits so high that nothing is refused",
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=0,
        help="on a shared host, wait up to this many seconds for idle cores",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    args = parser.parse_args(argv)
    args.phases = [phase for phase in args.phases.split(",") if phase]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return args


def app_env(database_url: str, workdir: Path, ratelimit: str = "off") -> dict:
    """Our app's environment: ratelimits off, or they would refuse the load by design; or, with
    ``ratelimit`` set to a storage, counted as in production but never reached."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "FLASK_"))}
    env.pop("WEB_CONCURRENCY", None)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-secret-key-bench-secret-key-0123456789",  # noqa: S106 - throwaway
        FLASK_RATELIMIT_ENABLED="false",
        FLOOR_DATABASE=str(workdir / "floor.sqlite3"),
    )
    if RATELIMIT_STORAGES[ratelimit]:
        env.update(
            FLASK_RATELIMIT_ENABLED="true",
            RATELIMIT_STORAGE_URI=RATELIMIT_STORAGES[ratelimit],
            FLASK_RATELIMIT_SIGN=UNREACHED_SIGN_LIMIT,
            FLASK_RATELIMIT_KEY_PREFIX=f"bench-{os.getpid()}-{int(time.time())}",
        )
    return env


def cpu_counters(server, database: str | None) -> dict:
    """Running CPU totals (seconds) of the server, its PostgreSQL backends (by pid), wrk and the
    host."""
    return {
        "server": server.cpu_seconds(),
        "database": host.database_backends_cpu(database),
        "driver": own_cpu_seconds(),
        "host": host.busy_seconds(),
        "clock": time.monotonic(),
    }


def load(driver, server, url: str, args, seconds: int, sign: dict | None = None) -> dict:
    """One load run, with the CPU the server (and its database) spent on it, and what the rest
    of the machine did meanwhile."""
    # On SQLite, no backend is ours, even if another run uses a PostgreSQL database of that name.
    database = args.pg_database if args.db == "postgres" else None
    before = cpu_counters(server, database)
    result = driver(url, args.connections, seconds, sign=sign)
    after = cpu_counters(server, database)
    spent = {key: after[key] - before[key] for key in before if key != "database"}
    spent["database"] = host.database_cpu_between(before["database"], after["database"])
    requests = max(result["requests"], 1)
    result["server_cpu_ms_per_request"] = 1000 * spent["server"] / requests
    result["database_cpu_ms_per_request"] = 1000 * spent["database"] / requests
    result["cpu_ms_per_request"] = 1000 * (spent["server"] + spent["database"]) / requests
    result["driver_cores"] = spent["driver"] / spent["clock"]
    # Whatever else kept the cores busy: other people's work on a shared host.
    others = spent["host"] - spent["server"] - spent["database"] - spent["driver"]
    result["other_cores"] = others / spent["clock"]
    print(
        f"  {server.name:5} {result['requests_per_s']:8.1f} req/s  "
        f"p50 {result['latency_ms']['p50']:7.1f} ms  p99 {result['latency_ms']['p99']:7.1f} ms  "
        f"{result['cpu_ms_per_request']:5.2f} CPU ms/req "
        f"(database {result['database_cpu_ms_per_request']:.2f})  "
        f"wrk {result['driver_cores']:.2f} cores  others {result['other_cores']:.2f} cores  "
        f"{result['statuses']}",
        flush=True,
    )
    return result


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children (wrk, once it has exited)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def compare(driver, targets: dict, args, sign_for=None) -> dict:
    """Warm both servers up, then alternate runs on ours and the floor, so that drift on the
    machine hits both alike. ``targets`` maps ours/floor to (server, url)."""
    runs = {name: [] for name in targets}
    warmups = {}
    for name, (_server, url) in targets.items():
        sign = sign_for(name, "warmup") if sign_for else None
        warmups[name] = driver(url, args.connections, WARMUP_SECONDS, sign=sign)
    for number in range(args.runs):
        host.wait_for_quiet(args.quiet_wait)
        for name, (server, url) in targets.items():
            sign = sign_for(name, number) if sign_for else None
            runs[name].append(load(driver, server, url, args, args.seconds, sign=sign))
    return {name: report.summarize(runs[name], warmups[name]) for name in targets}


def page_phase(driver, ours, floor, args) -> dict:
    targets = {
        "ours": (ours, f"http://127.0.0.1:{ours.port}{PETITION_PATH}"),
        "floor": (floor, f"http://127.0.0.1:{floor.port}/hello"),
    }
    return compare(driver, targets, args)


def signing_phase(driver, ours, floor, floor_pg, db, env, args) -> dict:
    """Sign with a fresh address per request; then count the rows each app stored."""
    cookie, token = form_session(ours.port, PETITION_PATH)
    stamp = int(time.time())

    def sign_for(name, number):
        return {"csrf_token": token, "cookie": cookie, "run": f"{name}{number}-{stamp}"}

    targets = {
        "ours": (ours, f"http://127.0.0.1:{ours.port}{PETITION_PATH}/sign"),
        "floor": (floor, f"http://127.0.0.1:{floor.port}/sign"),
    }
    if floor_pg:
        targets["floor_pg"] = (floor_pg, f"http://127.0.0.1:{floor_pg.port}/sign")
    result = compare(driver, targets, args, sign_for=sign_for)
    result["ours_rows"] = dataset.count_signatures(db)
    floor_db = dataset.Database("sqlite", "", Path(env["FLOOR_DATABASE"]))
    result["floor_rows"] = floor_db.scalar("SELECT count(*) FROM signature")
    if floor_pg:
        result["floor_pg_rows"] = dataset.count_floor_rows(db)
    return result


def nginx_phase(driver, ours, db, workdir: Path, args) -> dict:
    """The page through nginx and from gunicorn alone, while signatures arrive at a fixed rate
    on the same door; then the stored rows, and the count the API gives, against what was sent.

    The petition counts each signature at once for the phase (no confirmation email), so that
    its count must catch up with every row stored; the setting is put back afterwards."""
    binary = nginx.ensure_nginx()
    if binary is None:
        return {"error": "nginx is missing and apt-get could not install it"}
    confirmation = db.scalar("SELECT requires_confirmation FROM petition WHERE slug = ?", dataset.SLUG)
    dataset.set_confirmation(db, False)
    try:
        time.sleep(TERMS_SECONDS)  # until every worker has read the new terms
        cookie, token = form_session(ours.port, PETITION_PATH)
        before = dataset.count_signatures(db)
        signed = nginx.with_signer(driver, args.sign_rate, token, cookie, str(int(time.time())))
        with nginx.running(binary, servers.free_port(), ours.port, workdir / "nginx") as proxy:
            targets = {
                "nginx": (nginx.FrontDoor(proxy, ours), f"http://127.0.0.1:{proxy.port}{PETITION_PATH}"),
                "gunicorn": (ours, f"http://127.0.0.1:{ours.port}{PETITION_PATH}"),
            }
            result = compare(signed, targets, args)
            result["stored"] = dataset.count_signatures(db) - before
            result["count"] = count_check(db, proxy.port)
    finally:
        dataset.set_confirmation(db, confirmation)
    for name in targets:
        result[name]["signer"] = nginx.signer_totals(result[name])
        print(f"  signer on {name}: {result[name]['signer']}", flush=True)
    print(f"  stored {result['stored']}; count {result['count']}", flush=True)
    return result


def count_check(db, port: int) -> dict:
    """Poll the API's count through nginx until it equals the counted rows, for at most
    COUNT_SECONDS; and the database's own count table against the rows, which must be exact."""
    rows = dataset.count_counted(db)
    table = dataset.count_table_total(db)
    started = time.monotonic()
    while True:
        status, _headers, body = request(port, "GET", f"/api/v1/petitions/{dataset.SLUG}/count")
        api = json.loads(body)["total_signatures"] if status == 200 else None
        waited = time.monotonic() - started
        if api == rows or waited > COUNT_SECONDS:
            break
        time.sleep(0.5)
    return {"counted_rows": rows, "count_table": table, "api": api, "api_seconds": round(waited, 1)}


def export_phase(db, env, ours, workdir: Path, args) -> dict:
    """Each export alone on the machine, as far as --quiet-wait allows."""
    exports.create_organizer(env)
    steps = (
        ("cli", "flask signatures export", lambda: exports.cli_export(env, workdir)),
        ("http", "GET /admin/p/<slug>/export.csv", lambda: exports.http_export(ours)),
        ("baseline", "the database's own dump", lambda: exports.baseline_export(db, env, workdir)),
    )
    result = {}
    for key, title, measure in steps:
        print(f"  export: {title}", flush=True)
        host_busy = host.wait_for_quiet(args.quiet_wait)
        result[key] = {**measure(), "host_busy_cores_before": round(host_busy, 2)}
        print(f"    {result[key]}", flush=True)
    return result


def run_phases(args, db, env, workdir: Path, results: dict) -> None:
    """Start both servers and run the phases; the ``with`` stops the servers on any exit."""
    driver_name, driver = loadgen.load_driver()
    results["load_driver"] = driver_name
    ours_command = servers.gunicorn_command("wsgi:app", servers.free_port(), args.workers)
    floor_command = servers.gunicorn_command("floor_app:app", servers.free_port(), args.workers, chdir=HERE)
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(
            servers.running("ours", ours_command, env, workdir / "ours.log", "/healthz")
        )
        floor = None
        if {"page", "sign"} & set(args.phases):
            floor = stack.enter_context(
                servers.running("floor", floor_command, env, workdir / "floor.log", "/hello")
            )
        floor_pg = None
        if db.kind == "postgres" and "sign" in args.phases:
            dataset.create_floor_table(db)
            command = servers.gunicorn_command("floor_app:app", servers.free_port(), args.workers, chdir=HERE)
            floor_env = {**env, "FLOOR_DATABASE_URL": db.url.replace("+psycopg", "")}
            floor_pg = stack.enter_context(
                servers.running("floor_pg", command, floor_env, workdir / "floor_pg.log", "/hello")
            )
        if "page" in args.phases:
            print("page view, 0 signatures", flush=True)
            results["page_0"] = page_phase(driver, ours, floor, args)
        if "sign" in args.phases:
            print("signing", flush=True)
            results["signing"] = signing_phase(driver, ours, floor, floor_pg, db, env, args)
        if "nginx" in args.phases:
            print(f"page view through nginx, signing at {args.sign_rate:g} a second", flush=True)
            results["nginx"] = nginx_phase(driver, ours, db, workdir, args)
        if {"page", "export"} & set(args.phases):
            print(f"inserting {args.rows:,} confirmed signatures", flush=True)
            started = time.monotonic()
            dataset.clear_signatures(db)
            dataset.bulk_insert(db, args.rows)
            results["bulk_insert_s"] = round(time.monotonic() - started, 1)
        if "page" in args.phases:
            print(f"page view, {args.rows:,} signatures", flush=True)
            results["page_full"] = page_phase(driver, ours, floor, args)
        if "export" in args.phases:
            print(f"export of {args.rows:,} signatures", flush=True)
            results["export"] = export_phase(db, env, ours, workdir, args)


def table_rows(results: dict, rows: int) -> list[tuple]:
    lines = []
    if "signing" in results:
        lines += report.signing_rows(results["signing"])
    if "page_0" in results:
        lines += report.page_rows("page, 0 signatures", results["page_0"])
        lines += report.page_rows(f"page, {rows:,} signatures", results["page_full"])
        lines += report.stability_rows(results["page_0"], results["page_full"], rows)
    if "nginx" in results:
        lines += report.nginx_rows(results["nginx"])
    if "export" in results:
        export = results["export"]
        lines += report.export_rows("export, CLI", export["cli"], export["baseline"], rows)
        lines += report.export_rows("export, HTTP", export["http"], export["baseline"], rows)
    return lines


def stop_on_sigterm(_signum, _frame):
    # SystemExit unwinds through the ``with`` blocks, so the servers are stopped.
    sys.exit(143)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    results = {"database": args.db, "machine": report.machine(), "settings": vars(args)}
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="petition-bench-"))
        if not args.keep:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print(f"work folder {workdir}; {args.workers} workers each; {args.db}", flush=True)
        db = dataset.create(args.db, workdir, args.pg_database)
        env = app_env(db.url, workdir, args.ratelimit)
        dataset.prepare(env)
        run_phases(args, db, env, workdir, results)
    rows = table_rows(results, args.rows)
    results["table"] = rows
    reference = "floor / hello / dump tool / gunicorn alone"
    setup = f"{args.workers} workers each, {args.connections} connections"
    if args.ratelimit != "off":
        setup += f", our signing rate limit counted in {args.ratelimit}"
    print(f"\n{args.db}, {os.cpu_count()} cores, {setup}\n")
    print(report.table(rows, reference))
    print(f"\nresults: {report.write_json(results)}")
    return 0 if all(met is not False for *_rest, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
