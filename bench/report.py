"""Turning runs into figures: medians, ratios, targets met or missed, a table and a JSON file."""

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

from servers import ROOT

RESULTS = Path(__file__).resolve().parent / "results"
SIGN_RATIO_TARGET = 0.40
# On PostgreSQL the fair yardstick is the same floor writing to the same database (floor-pg).
SIGN_PG_RATIO_TARGET = 0.45
SIGN_P99_TARGET_MS = 100
PAGE_RATIO_TARGET = 0.50
PAGE_STABILITY = 0.10
EXPORT_RSS_TARGET_MB = 150
EXPORT_FIRST_BYTE_TARGET_S = 1.0
EXPORT_TOTAL_FACTOR = 3.0
NGINX_RATIO_TARGET = 5.0
# The signer keeps its rate if each measured run delivers this share of it.
SIGN_RATE_SHARE = 0.95


def summarize(runs: list[dict], warmup: dict) -> dict:
    """Medians over several runs of one target; totals (warm-up included) for the checks."""
    statuses: dict[str, int] = {}
    for run in [warmup, *runs]:
        for status, n in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n

    def median(key: str, figure: str | None = None) -> float:
        return statistics.median(run[key][figure] if figure else run[key] for run in runs)

    return {
        "requests_per_s": median("requests_per_s"),
        "p50_ms": median("latency_ms", "p50"),
        "p99_ms": median("latency_ms", "p99"),
        "cpu_ms_per_request": median("cpu_ms_per_request"),
        "database_cpu_ms_per_request": median("database_cpu_ms_per_request"),
        "driver_cores": median("driver_cores"),
        "other_cores": median("other_cores"),
        "requests": sum(run["requests"] for run in [warmup, *runs]),
        "in_flight_at_stop": sum(run["sent"] - run["requests"] for run in [warmup, *runs]),
        "statuses": statuses,
        "non_2xx_3xx": sum(run["non_2xx_3xx"] for run in [warmup, *runs]),
        "socket_errors": sum(run["socket_errors"] + run["timeouts"] for run in [warmup, *runs]),
        "runs": runs,
        "warmup": warmup,
    }


def rows_match(stored: int, summary: dict) -> bool:
    """Every 303 stored one row; requests cut off in flight when wrk stopped may have stored one too."""
    redirects = summary["statuses"].get("303", 0)
    return redirects <= stored <= redirects + summary["in_flight_at_stop"]


def row(phase, figure, ours, reference, ratio=None, target="", met=None) -> tuple:
    """One line of the table; ``met`` is None where no target applies."""
    return (phase, figure, ours, reference, ratio, target, met)


def errors(summary: dict) -> int:
    return summary["non_2xx_3xx"] + summary["socket_errors"]


def throughput_rows(
    phase: str, ours: dict, other: dict, target: float | None, target_text: str
) -> list[tuple]:
    """req/s and latency of ours against the reference, and the same ratio by CPU: requests per
    CPU-second the server and its database burned, which is what req/s would show on an otherwise
    idle machine. With no ``target``, the ratios are shown and not judged."""
    ratio = ours["requests_per_s"] / other["requests_per_s"]
    ours_rate, other_rate = 1000 / ours["cpu_ms_per_request"], 1000 / other["cpu_ms_per_request"]
    cpu_ratio = ours_rate / other_rate
    return [
        row(phase, "req/s", ours["requests_per_s"], other["requests_per_s"], ratio, target_text,
            None if target is None else ratio >= target),
        row(phase, "p50 ms", ours["p50_ms"], other["p50_ms"]),
        row(phase, "p99 ms", ours["p99_ms"], other["p99_ms"]),
        row(phase, "non-2xx/3xx + socket errors", errors(ours), errors(other), None, "0", errors(ours) == 0),
        row(phase, "req per CPU-second (server + database)", ours_rate, other_rate, cpu_ratio,
            "(same, by CPU)", None if target is None else cpu_ratio >= target),
        row(phase, "cores used by wrk", ours["driver_cores"], other["driver_cores"]),
        row(phase, "cores used by other work on the host", ours["other_cores"], other["other_cores"]),
    ]  # fmt: skip


def signing_rows(signing: dict) -> list[tuple]:
    ours, floor = signing["ours"], signing["floor"]
    on_postgres = "floor_pg" in signing
    if on_postgres:
        rows = throughput_rows("signing", ours, floor, None, "(judged against floor-pg below)")
    else:
        rows = throughput_rows("signing", ours, floor, SIGN_RATIO_TARGET, "≥ 40 % of floor")
    # The p99 target is absolute: mark it on the p99 line.
    rows[2] = row("signing", "p99 ms", ours["p99_ms"], floor["p99_ms"], None, "< 100 ms",
                  ours["p99_ms"] < SIGN_P99_TARGET_MS)  # fmt: skip
    stored = f"{signing['ours_rows']} / {ours['statuses'].get('303', 0)}"
    floor_stored = f"{signing['floor_rows']} / {floor['statuses'].get('303', 0)}"
    rows.insert(4, row("signing", "rows stored / 303s", stored, floor_stored, None,
                       "equal (± in flight at stop)", rows_match(signing["ours_rows"], ours)))  # fmt: skip
    if on_postgres:
        # The same floor writing to PostgreSQL: what the database server itself costs a signature.
        floor_pg = signing["floor_pg"]
        phase = "signing vs floor-pg"
        ours_rate, floor_pg_rate = 1000 / ours["cpu_ms_per_request"], 1000 / floor_pg["cpu_ms_per_request"]
        cpu_ratio = ours_rate / floor_pg_rate
        rows += [
            row(phase, "req/s", ours["requests_per_s"], floor_pg["requests_per_s"],
                ours["requests_per_s"] / floor_pg["requests_per_s"], "≥ 45 % of floor-pg",
                ours["requests_per_s"] / floor_pg["requests_per_s"] >= SIGN_PG_RATIO_TARGET),
            row(phase, "req per CPU-second (server + database)", ours_rate, floor_pg_rate,
                cpu_ratio, "(same, by CPU)", cpu_ratio >= SIGN_PG_RATIO_TARGET),
            row(phase, "floor-pg rows stored / 303s",
                f"{signing['floor_pg_rows']} / {floor_pg['statuses'].get('303', 0)}", "", None,
                "equal (± in flight at stop)", rows_match(signing["floor_pg_rows"], floor_pg)),
            row("floor-pg vs floor", "req/s", floor_pg["requests_per_s"], signing["floor"]["requests_per_s"],
                floor_pg["requests_per_s"] / signing["floor"]["requests_per_s"]),
        ]  # fmt: skip
    return rows


def page_rows(phase: str, page: dict) -> list[tuple]:
    return throughput_rows(phase, page["ours"], page["floor"], PAGE_RATIO_TARGET, "≥ 50 % of hello")


def stability_rows(empty: dict, full: dict, rows: int) -> list[tuple]:
    """Whether the page costs the same with ``rows`` signatures as with none: by req/s, by the
    server's CPU per request, which other work on the host disturbs less, and by its share of
    hello's req/s in each phase, which a host that speeds up or slows down between the two
    phases (minutes apart) does not move."""
    before, after = empty["ours"], full["ours"]
    ratio = after["requests_per_s"] / before["requests_per_s"]
    cpu_ratio = after["cpu_ms_per_request"] / before["cpu_ms_per_request"]
    share_before = before["requests_per_s"] / empty["floor"]["requests_per_s"]
    share_after = after["requests_per_s"] / full["floor"]["requests_per_s"]
    share_ratio = share_after / share_before
    label = f"{rows:,} vs 0 signatures"
    return [
        row("page", f"req/s, {label}", after["requests_per_s"], before["requests_per_s"], ratio,
            "within ± 10 %", abs(ratio - 1) <= PAGE_STABILITY),
        row("page", f"CPU ms/request, {label}", after["cpu_ms_per_request"], before["cpu_ms_per_request"],
            cpu_ratio, "(same, by CPU)", abs(cpu_ratio - 1) <= PAGE_STABILITY),
        row("page", f"share of hello's req/s, {label}", share_after, share_before, share_ratio,
            "(same, against hello)", abs(share_ratio - 1) <= PAGE_STABILITY),
    ]  # fmt: skip


def nginx_rows(result: dict) -> list[tuple]:
    """The page through nginx against gunicorn alone, both while signatures arrive; then what
    became of every signature sent on either."""
    phase = "page via nginx, signing"
    if "error" in result:
        return [row(phase, "ran", result["error"], "", None, "nginx installed", False)]
    proxy, alone = result["nginx"], result["gunicorn"]
    rows = throughput_rows(phase, proxy, alone, NGINX_RATIO_TARGET, "≥ 5 × gunicorn alone")
    rows[3] = row(phase, "non-2xx/3xx + socket errors", errors(proxy), errors(alone), None, "0 on both",
                  errors(proxy) == 0 and errors(alone) == 0)  # fmt: skip
    # The signing CPU is in both, spread over very different numbers of page views: shown only.
    rows[4] = row(*rows[4][:5], "(by CPU, signing included)", None)
    signers = proxy["signer"], alone["signer"]
    rate = proxy["runs"][0]["signer"]["rate"]
    answered = sum(sum(signer["statuses"].values()) for signer in signers)
    redirects = sum(signer["statuses"].get("303", 0) for signer in signers)
    sent = sum(signer["sent"] for signer in signers)
    count = result["count"]
    phase = f"signing at {rate:g}/s meanwhile"
    return rows + [
        # Judged through nginx, the door that ships. Gunicorn alone, saturated by the readers,
        # may take fewer: that only leaves it more time for pages, against the 5 x above.
        row(phase, "signatures/s, slowest run", signers[0]["achieved_per_s"], signers[1]["achieved_per_s"],
            None, f"≥ {SIGN_RATE_SHARE:.0%} of {rate:g} via nginx",
            signers[0]["achieved_per_s"] >= SIGN_RATE_SHARE * rate),
        row(phase, "p99 ms", signers[0]["p99_ms"], signers[1]["p99_ms"]),
        row(phase, "sent; errors (non-2xx/3xx, socket, stuck)",
            f"{signers[0]['sent']}; {signers[0]['errors'] + signers[0]['threads_stuck']}",
            f"{signers[1]['sent']}; {signers[1]['errors'] + signers[1]['threads_stuck']}", None, "0 errors",
            all(signer["errors"] + signer["threads_stuck"] == 0 for signer in signers)),
        row(phase, "rows stored / 303s / sent, both", f"{result['stored']} / {redirects} / {sent}", "", None,
            "equal", result["stored"] == redirects == answered == sent),
        row(phase, "count: API / count table / counted rows",
            f"{count['api']} / {count['count_table']} / {count['counted_rows']}", "", None,
            f"equal within {count['api_seconds']} s",
            count["api"] == count["count_table"] == count["counted_rows"]),
    ]  # fmt: skip


def export_rows(phase: str, ours: dict, baseline: dict, expected_rows: int) -> list[tuple]:
    ratio = ours["total_s"] / baseline["total_s"]
    complete = ours["lines"] - 1 == expected_rows and ours.get("complete", True)
    return [
        row(phase, "peak RSS MB", ours["peak_rss_mb"], baseline["peak_rss_mb"], None, "< 150 MB",
            ours["peak_rss_mb"] < EXPORT_RSS_TARGET_MB),
        row(phase, "first byte s", ours["first_byte_s"], baseline["first_byte_s"], None, "< 1 s",
            ours["first_byte_s"] < EXPORT_FIRST_BYTE_TARGET_S),
        row(phase, "total s", ours["total_s"], baseline["total_s"], ratio, f"≤ 3 × {baseline['tool']}",
            ratio <= EXPORT_TOTAL_FACTOR),
        row(phase, "rows written", ours["lines"] - 1, baseline["lines"] - 1, None, f"{expected_rows:,}",
            complete),
    ]  # fmt: skip


def cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(rows: list[tuple], reference: str) -> str:
    """A Markdown table: what, ours, the reference, their ratio, the target, and whether it is met."""
    lines = [
        f"| phase | figure | ours | {reference} | ratio | target | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for phase, figure, ours, other, ratio, target, met in rows:
        verdict = "" if met is None else ("**yes**" if met else "**NO**")
        ratio_text = "" if ratio is None else f"{ratio:.2f}"
        lines.append(
            f"| {phase} | {figure} | {cell(ours)} | {cell(other)} | {ratio_text} | {target} | {verdict} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    """Enough about the machine and the code to tell runs apart."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        return done.stdout.strip()

    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_json(results: dict) -> Path:
    """Save everything under bench/results/ (git-ignored); return the path."""
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-{results['database']}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    return path
