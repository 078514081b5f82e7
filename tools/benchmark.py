"""Benchmarks for Q27 and Q28: what BackgroundTasks, `.delay()` and a worker cost, as ratios.

Shown on docs/celery/benchmarks.md. `make bench` runs it from the project root:

    python tools/benchmark.py

It starts its own redis-server on a free port, its own workers (solo, and prefork
-c 2 with prefetch multipliers 1 and 4) and two raw Redis consumers; measures with
a warm-up and interleaved repeats; reaps every process; then writes
docs/assets/benchmark.json, docs/assets/benchmark.svg and
docs/_includes/benchmark-table.md. Every figure is also given as a ratio to a
floor measured on the same Redis at the same time: ratios move much less than
absolute times from one quiet machine to another.
"""

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import celery
import fastapi
import kombu
import redis
from celery import Celery
from fastapi import BackgroundTasks, FastAPI, Request

ROOT = Path(__file__).resolve().parent.parent
APP_ROOT = ROOT / "examples" / "celery"  # the Celery section's application root
sys.path[:0] = [str(APP_ROOT), str(ROOT / "tests")]  # its modules; the suite's process helpers

from broker_errors import publish  # noqa: E402

EMAIL = "user@example.com"
SINK = "bench.sink"  # a queue no worker reads: the per-request cost is the publisher's alone
STAGING = "bench.staging"  # filled before a throughput round, then renamed to a worker's queue
RAW_SINK, RAW_IN, RAW_STAGING = "raw.sink", "raw.in", "raw.staging"
RAW_REPLY, RAW_DONE, RAW_READY = "raw.reply", "raw.done", "raw.ready"
RAW_CONSUMERS = 2  # as many as the prefork pool's processes

# --8<-- [start:app]
app = Celery("benchmark")
app.config_from_object("celeryconfig")  # the guide's settings: JSON, acks late, prefetch 1…
app.conf.task_default_queue = SINK


@app.task
def noop(email: str) -> None:
    """Does nothing: what is left is Celery's own cost."""


@app.task(acks_late=False)  # a task option; task_acks_late only sets its default
def noop_early_ack(email: str) -> None:
    """The same no-op, acknowledged when a worker receives it, not after it ran."""
# --8<-- [end:app]


# --8<-- [start:workers]
# One worker per configuration, each on its own queue, with --loglevel=info as in the guide
# (plus the suite's quick-start flags, which skip mingle, gossip and heartbeats).
WORKERS = {
    "bench.solo": ["--pool=solo"],
    "bench.pf1": ["--pool=prefork", "--concurrency=2", "--prefetch-multiplier=1"],
    "bench.pf4": ["--pool=prefork", "--concurrency=2", "--prefetch-multiplier=4"],
}
# --8<-- [end:workers]


# --8<-- [start:calls]
def do_nothing(email: str) -> None:
    """The BackgroundTasks job: nothing, so that only the bookkeeping is measured."""


def add_task() -> None:
    BackgroundTasks().add_task(do_nothing, EMAIL)  # one request's worth: a list append


def delay() -> None:
    noop.delay(EMAIL)  # build the message, LPUSH it, subscribe to its result's channel


def lpush(r: redis.Redis, body: bytes) -> None:
    r.lpush(RAW_SINK, body)  # the very bytes .delay() pushes: the floor
# --8<-- [end:calls]


# --8<-- [start:routes]
api = FastAPI(title="Benchmark routes")


@api.post("/empty")
def empty() -> dict:
    return {"ok": True}


@api.post("/background")
def via_background(background_tasks: BackgroundTasks) -> dict:
    background_tasks.add_task(do_nothing, EMAIL)
    return {"ok": True}


@api.post("/celery")
def via_celery() -> dict:
    publish(noop.delay, EMAIL)  # as the guide's routes do: a broker outage becomes a 503
    return {"ok": True}


@api.post("/redis")
def via_redis(request: Request) -> dict:
    request.app.state.redis.lpush(RAW_SINK, request.app.state.body)
    return {"ok": True}
# --8<-- [end:routes]


# --8<-- [start:latency]
def celery_round_trip(queue: str) -> None:
    noop.apply_async((EMAIL,), queue=queue).get(timeout=30)  # the result arrives by PUBLISH


def raw_round_trip(r: redis.Redis, body: bytes) -> None:
    r.lpush(RAW_IN, b"R" + body)  # a raw consumer pops it and pushes it back
    _, reply = r.brpop([RAW_REPLY], timeout=20)  # None after 20 s: unpacking fails loudly
# --8<-- [end:latency]


# --8<-- [start:throughput]
def celery_throughput(producer: Celery, r: redis.Redis, results: redis.client.PubSub,
                      task: str, queue: str, n: int) -> float:
    for _ in range(n):  # fill a queue that no worker reads…
        producer.send_task(task, (EMAIL,), queue=STAGING)
    start = time.perf_counter()
    r.rename(STAGING, queue)  # …then hand all n to a waiting worker at once (BRPOP wakes up)
    done = 0
    for message in results.listen():  # every state is also PUBLISHed: count the SUCCESSes
        done += json.loads(message["data"])["status"] == "SUCCESS"
        if done == n:
            return n / (time.perf_counter() - start)


def raw_throughput(r: redis.Redis, body: bytes, n: int) -> float:
    with r.pipeline(transaction=False) as pipe:
        for _ in range(n):
            pipe.lpush(RAW_STAGING, b"D" + body)
        for _ in range(RAW_CONSUMERS):  # one end mark per consumer, popped after the data
            pipe.lpush(RAW_STAGING, b"E")
        pipe.execute()
    start = time.perf_counter()
    r.rename(RAW_STAGING, RAW_IN)
    for _ in range(RAW_CONSUMERS):
        _, mark = r.brpop([RAW_DONE], timeout=20)
    return n / (time.perf_counter() - start)
# --8<-- [end:throughput]


# --8<-- [start:raw_consumer]
def raw_consumer(url: str) -> None:
    """The ceiling: BRPOP in a loop, no Celery. R: reply, E: round over, X: exit."""
    r = redis.Redis.from_url(url, socket_timeout=None)  # redis-py 8 defaults to 5 s
    r.lpush(RAW_READY, b"")
    while (item := r.brpop([RAW_IN], timeout=600)) is not None:
        kind, body = item[1][:1], item[1][1:]
        if kind == b"X":
            return
        if kind == b"R":
            r.lpush(RAW_REPLY, body)
        elif kind == b"E":
            r.lpush(RAW_DONE, b"")
# --8<-- [end:raw_consumer]


# --8<-- [start:stats]
def per_call(fn: Callable[[], object], n: int) -> float:
    """Mean seconds per call over n back-to-back calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def percentiles(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """p50 and p95 of n timed calls, one at a time."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.quantiles(times, n=20, method="inclusive")[18]


def interleaved(measures: dict[str, Callable[[], object]], repeats: int) -> dict[str, list]:
    """One discarded warm-up each, then the repeats in turn, so that drift hits all alike."""
    for measure in measures.values():
        measure()
    samples: dict[str, list] = {name: [] for name in measures}
    for _ in range(repeats):
        for name, measure in measures.items():
            samples[name].append(measure())
    return samples
# --8<-- [end:stats]


STARTED = time.perf_counter()


def progress(what: str) -> None:
    print(f"[{time.perf_counter() - STARTED:5.1f} s] {what}", file=sys.stderr, flush=True)


COUNTS = {  # per repeat
    "full": {"calls": 2000, "requests": 150, "round_trips": 200, "tasks": 500, "repeats": 5},
    "quick": {"calls": 20, "requests": 5, "round_trips": 5, "tasks": 10, "repeats": 2},
}


def measure(r: redis.Redis, results: redis.Redis, counts: dict) -> list[dict]:
    from fastapi.testclient import TestClient  # httpx: a test dependency, needed only here

    repeats = counts["repeats"]
    noop.delay(EMAIL)
    body = r.rpop(SINK)  # the bytes of one real task message, reused by every raw figure

    def calls(fn: Callable[[], object], n: int = counts["calls"]) -> Callable[[], float]:
        def run() -> float:
            value = per_call(fn, n)
            r.delete(SINK, RAW_SINK)  # outside the timing: keep Redis small between repeats
            return value
        return run

    call = interleaved({"add_task": calls(add_task), "delay": calls(delay),
                        "lpush": calls(lambda: lpush(r, body))}, repeats)
    progress("per-request cost, raw calls")

    api.state.redis, api.state.body = r, body
    with TestClient(api) as client:
        def requests(path: str) -> Callable[[], float]:
            return calls(lambda: client.post(path).raise_for_status(), counts["requests"])
        request = interleaved({p: requests(f"/{p}") for p in ("empty", "background", "celery",
                                                              "redis")}, repeats)
    progress("per-request cost through the API")

    def trips(fn: Callable[[], object]) -> Callable[[], tuple]:
        return lambda: percentiles(fn, counts["round_trips"])
    trip = interleaved({"raw": trips(lambda: raw_round_trip(r, body)),
                        "solo": trips(lambda: celery_round_trip("bench.solo")),
                        "prefork": trips(lambda: celery_round_trip("bench.pf1"))}, repeats)
    progress("latency")

    producer = Celery("bench-producer", broker=app.conf.broker_url, set_as_current=False)
    pubsub = results.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("celery-task-meta-*")
    n = counts["tasks"]

    def rounds(task: str, queue: str) -> Callable[[], float]:
        return lambda: celery_throughput(producer, r, pubsub, task, queue, n)
    # Raw rounds are ten times longer: at n messages they would last a few milliseconds.
    rate = interleaved({"raw": lambda: raw_throughput(r, body, 10 * n),
                        "pf1_late": rounds(noop.name, "bench.pf1"),
                        "pf1_early": rounds(noop_early_ack.name, "bench.pf1"),
                        "pf4_late": rounds(noop.name, "bench.pf4"),
                        "pf4_early": rounds(noop_early_ack.name, "bench.pf4")}, repeats)
    progress("throughput")
    pubsub.close()
    producer.close()

    def p(i: int, samples: list[tuple]) -> list[float]:
        return [s[i] for s in samples]

    return [
        group("call", "Per-request cost, raw call", "µs", 1e6, [
            ("add_task", "`BackgroundTasks.add_task`", call["add_task"], "lpush"),
            ("delay", "`.delay()`", call["delay"], "lpush"),
            ("lpush", "raw `LPUSH` (floor)", call["lpush"], "lpush"),
        ]),
        group("api", "Per-request cost through the API (TestClient)", "µs", 1e6, [
            ("empty", "route that queues nothing", request["empty"], "redis"),
            ("background", "route with `BackgroundTasks`", request["background"], "redis"),
            ("celery", "route with `.delay()`", request["celery"], "redis"),
            ("redis", "route with a raw `LPUSH` (floor)", request["redis"], "redis"),
        ]),
        group("latency", "Enqueue → result ready", "ms", 1e3, [
            ("raw_p50", "raw `LPUSH`/`BRPOP` trip, p50 (floor)", p(0, trip["raw"]), "raw_p50"),
            ("raw_p95", "raw `LPUSH`/`BRPOP` trip, p95 (floor)", p(1, trip["raw"]), "raw_p95"),
            ("solo_p50", "solo worker, p50", p(0, trip["solo"]), "raw_p50"),
            ("solo_p95", "solo worker, p95", p(1, trip["solo"]), "raw_p95"),
            ("prefork_p50", "prefork -c 2 worker, p50", p(0, trip["prefork"]), "raw_p50"),
            ("prefork_p95", "prefork -c 2 worker, p95", p(1, trip["prefork"]), "raw_p95"),
        ]),
        group("throughput", "No-op tasks per second, prefork -c 2", "tasks/s", 1, [
            ("raw", "raw `LPUSH` + `BRPOP`, 2 consumers (ceiling)", rate["raw"], "raw"),
            ("pf1_late", "prefetch 1, acks late", rate["pf1_late"], "raw"),
            ("pf1_early", "prefetch 1, acks early", rate["pf1_early"], "raw"),
            ("pf4_late", "prefetch 4, acks late", rate["pf4_late"], "raw"),
            ("pf4_early", "prefetch 4, acks early", rate["pf4_early"], "raw"),
        ]),
    ]


def group(gid: str, title: str, unit: str, scale: float, rows: list[tuple]) -> dict:
    """Median, spread (min–max over the repeats) and ratio to the named floor row."""
    out = [{"id": rid, "label": label, "floor": floor,
            "samples": [v * scale for v in samples],
            "median": statistics.median(samples) * scale,
            "min": min(samples) * scale, "max": max(samples) * scale}
           for rid, label, samples, floor in rows]
    medians = {row["id"]: row["median"] for row in out}
    for row in out:
        row["ratio"] = row["median"] / medians[row["floor"]]
    return {"id": gid, "title": title, "unit": unit, "rows": out}


def machine(r: redis.Redis) -> dict:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return {
        "cpu": (models or [platform.processor() or "unknown"])[0],
        "cores": os.cpu_count(),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "redis_py": redis.__version__,
        "redis_server": r.info("server")["redis_version"],
        "fastapi": fastapi.__version__,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


# --8<-- [start:render]
def fmt(value: float, digits: int = 3) -> str:
    return f"{value:,.0f}" if value >= 10 ** (digits - 1) else f"{value:.{digits}g}"


def table(result: dict) -> str:
    m, counts = result["machine"], result["counts"]
    lines = [
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['system']}; Python {m['python']}, "
        f"celery {m['celery']}, kombu {m['kombu']}, redis-py {m['redis_py']}, "
        f"Redis {m['redis_server']}, FastAPI {m['fastapi']}.",
        "",
        f"**Run:** {result['date']}, `{result['command']}`; {counts['repeats']} repeats after "
        f"one warm-up; load average {m['load_average_1min']} when it started.",
    ]
    for g in result["groups"]:
        lines += ["", f"| {g['title']} | median | spread (min–max) | ratio to floor |",
                  "|---|--:|--:|--:|"]
        lines += [f"| {row['label']} | {fmt(row['median'])} {g['unit']} "
                  f"| {fmt(row['min'])}–{fmt(row['max'])} | {fmt(row['ratio'], 2)}× |"
                  for row in g["rows"]]
    return "\n".join(lines) + "\n"


def chart(result: dict) -> str:
    """Bars from 1× (the floor) on a log scale; text in currentColor, for light and dark.

    One column, each label on its own line above its bar, drawn 420 wide with 14 px text: a
    phone shows it whole (about 360 px wide, text still above 11 px) and a laptop at its own
    size. Labels sit on a halo of the page's background, so grid lines never cross a word.
    """
    rows = [(g, row) for g in result["groups"] for row in g["rows"]]
    logs = [math.log10(row["ratio"]) for _, row in rows]
    # Room on both sides for the value printed past the end of each bar.
    lo, hi = min(-1, math.floor(min(logs) - 0.6)), max(1, math.ceil(max(logs) + 0.6))
    width, left, right, top = 420, 24, 396, 44
    label, bar, gap, group_gap = 19, 14, 9, 30  # a row: its label line, its bar, the space
    bottom = top + len(result["groups"]) * group_gap + len(rows) * (label + bar + gap)
    height = bottom + 24  # the scale again under the bars: a phone scrolls past the top one

    def x(log: float) -> float:
        return left + (log - lo) / (hi - lo) * (right - left)

    halo = ('style="paint-order: stroke; stroke: var(--md-default-bg-color, #fff); '
            'stroke-width: 4px; stroke-linejoin: round"')
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" style="max-width: 100%; height: auto" '
           'font-family="system-ui, sans-serif" font-size="14" '
           'fill="currentColor" role="img" aria-label="Benchmark ratios to their floors">',
           '<text x="8" y="16" font-weight="bold">ratio to floor (log scale)</text>']
    for tick in range(lo, hi + 1):
        out.append(f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" '
                   f'y2="{bottom}" stroke="currentColor" '
                   f'stroke-opacity="{0.6 if tick == 0 else 0.15}"/>')
        for at in (top - 10, bottom + 18):
            out.append(f'<text x="{x(tick):.1f}" y="{at}" text-anchor="middle">'
                       f'{10.0 ** tick:g}×</text>')
    y = top
    colors = ["#26a69a", "#7e57c2", "#ef6c00", "#1e88e5"]
    for color, g in zip(colors, result["groups"], strict=False):
        y += group_gap
        out.append(f'<text x="8" y="{y - 8}" font-weight="bold" {halo}>'
                   f'{escape(g["title"])}</text>')
        for row, log in ((row, math.log10(row["ratio"])) for row in g["rows"]):
            out.append(f'<text x="8" y="{y + label - 5}" {halo}>'
                       f'{escape(row["label"].replace("`", ""))}</text>')
            y += label
            a, b = sorted((x(0), x(log)))
            out.append(f'<rect x="{a:.1f}" y="{y}" width="{max(b - a, 2):.1f}" '
                       f'height="{bar}" fill="{color}"/>')
            out.append(f'<text x="{b + 5 if log >= 0 else a - 5:.1f}" y="{y + bar - 2}" '
                       f'text-anchor="{"start" if log >= 0 else "end"}">'
                       f'{fmt(row["ratio"], 2)}×</text>')
            y += bar + gap
    out.append("</svg>")
    return "\n".join(out) + "\n"
# --8<-- [end:render]


def run(counts: dict, command: str) -> dict:
    from support.celery_procs import Proc
    from support.stack import Stack, urls

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))  # logs; kept if anything fails
    stack = Stack(tmp)  # the test suite's way to run private servers and workers
    server = stack.redis
    progress(f"private redis-server on port {server.port}, logs in {tmp}")
    # Celery reads these two variables before its own configuration, so app.conf.update()
    # would lose to a shell that already points them at another Redis: set them here.
    os.environ.update(urls(server.port))
    # The workers run `-A benchmark` from the app root: this file's folder goes on their path.
    path = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(Path(__file__).parent)])}
    # redis-py 8 reads with a 5 s socket timeout: longer than every BRPOP here, still bounded.
    r = redis.Redis.from_url(server.url(0), socket_timeout=90)
    results = redis.Redis.from_url(server.url(1), socket_timeout=30)
    try:
        workers = [stack.worker("benchmark", "-Q", queue, *args, name=queue, ready=False,
                                env=path)  # all at once: they start in parallel
                   for queue, args in WORKERS.items()]
        for i in range(RAW_CONSUMERS):
            argv = [sys.executable, __file__, "--raw-consumer", server.url(0)]
            stack.procs.append(Proc(argv, stack.env(**path), tmp / f"raw{i}.log").start())
        for proc in workers:
            proc.wait_for_log(r"ready\.", timeout=60)
        for _ in range(RAW_CONSUMERS):
            _, ready = r.brpop([RAW_READY], timeout=60)
        progress("workers and raw consumers ready")
        host = machine(r)
        groups = measure(r, results, counts)
    finally:
        with contextlib.suppress(redis.RedisError):
            r.lpush(RAW_IN, *[b"X"] * RAW_CONSUMERS)
        stack.close()  # SIGTERM to all first: warm shutdowns overlap; then each is reaped
        progress("all stopped")
    shutil.rmtree(tmp)
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "command": command,
            "counts": counts, "machine": host, "groups": groups}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke test")
    parser.add_argument("--assets", default=str(ROOT / "docs" / "assets"),
                        help="where benchmark.json and benchmark.svg go")
    parser.add_argument("--includes", default=str(ROOT / "docs" / "_includes"),
                        help="where benchmark-table.md goes")
    parser.add_argument("--redraw", action="store_true",
                        help="measure nothing: draw the chart and the table again from the "
                             "assets' benchmark.json")
    parser.add_argument("--raw-consumer", metavar="REDIS_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw_consumer:
        raw_consumer(args.raw_consumer)
        return 0
    assets, includes = Path(args.assets), Path(args.includes)
    if args.redraw:
        result = json.loads((assets / "benchmark.json").read_text())
        (assets / "benchmark.svg").write_text(chart(result))
        (includes / "benchmark-table.md").write_text(table(result))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` reaps
    command = "python tools/benchmark.py" + (" --quick" if args.quick else "")
    result = run(COUNTS["quick" if args.quick else "full"], command)
    assets.mkdir(parents=True, exist_ok=True)
    includes.mkdir(parents=True, exist_ok=True)
    (assets / "benchmark.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (assets / "benchmark.svg").write_text(chart(result))
    (includes / "benchmark-table.md").write_text(table(result))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
