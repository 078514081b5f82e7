"""The benchmark page's numbers can't rot: run tools/benchmark.py with tiny counts.

It runs as `make bench` does (a subprocess, from examples/), against the private
redis-server and workers it starts itself, and must reap all of them.
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support.celery_procs import Proc
from support.paths import ROOT
from support.waiting import port_open

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

GROUPS = {
    "call": ["add_task", "delay", "lpush"],
    "api": ["empty", "background", "celery", "redis"],
    "latency": ["raw_p50", "raw_p95", "solo_p50", "solo_p95", "prefork_p50", "prefork_p95"],
    "throughput": ["raw", "pf1_late", "pf1_early", "pf4_late", "pf4_early"],
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = [sys.executable, str(ROOT / "tools" / "benchmark.py"), "--quick",
            "--assets", str(out), "--includes", str(out)]
    # A shell already pointed at another Redis (here: a closed port) must not matter.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
           "CELERY_RESULT_BACKEND": "redis://127.0.0.1:1/1"}
    proc = Proc(argv, env, out / "bench.log").start()
    try:
        proc.proc.wait(timeout=90)  # a bound for a busy machine
    finally:
        proc.stop()
    assert proc.proc.returncode == 0, proc.log
    return out, proc.log


@pytest.mark.slow  # the quick run takes seconds, workers included
@pytest.mark.timeout(150)
def test_every_figure_has_median_spread_and_ratio_to_its_floor(quick_run):
    out, _ = quick_run
    result = json.loads((out / "benchmark.json").read_text())
    repeats = result["counts"]["repeats"]
    assert {g["id"]: [row["id"] for row in g["rows"]] for g in result["groups"]} == GROUPS
    for group in result["groups"]:
        rows = {row["id"]: row for row in group["rows"]}
        for row in group["rows"]:
            assert len(row["samples"]) == repeats
            assert row["min"] <= row["median"] <= row["max"]
            assert row["min"] > 0
            floor = rows[row["floor"]]
            assert row["ratio"] == pytest.approx(row["median"] / floor["median"])
            assert floor["ratio"] == 1
    latency = {row["id"]: row for row in result["groups"][2]["rows"]}
    for name in ("raw", "solo", "prefork"):  # within each repeat, p95 >= p50
        p50s, p95s = latency[f"{name}_p50"]["samples"], latency[f"{name}_p95"]["samples"]
        assert all(p95 >= p50 for p50, p95 in zip(p50s, p95s, strict=True))
    machine = result["machine"]
    assert machine["cores"] == os.cpu_count()
    assert machine["redis_server"].count(".") == 2
    assert {"cpu", "python", "celery", "kombu", "redis_py", "fastapi"} <= set(machine)


@pytest.mark.slow  # the quick run takes seconds, workers included
@pytest.mark.timeout(150)
def test_table_and_chart_show_every_row(quick_run):
    out, _ = quick_run
    result = json.loads((out / "benchmark.json").read_text())
    rows = [row for g in result["groups"] for row in g["rows"]]
    table = (out / "benchmark-table.md").read_text()
    for group in result["groups"]:
        assert f"| {group['title']} | median |" in table
    for row in rows:  # the ratio, to 2 significant digits
        shown = re.search(rf"^\| {re.escape(row['label'])} \| .* \| ([\d.,]+)× \|$", table, re.M)
        assert float(shown[1].replace(",", "")) == pytest.approx(row["ratio"], rel=0.05)
    svg = ET.parse(out / "benchmark.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == len(rows)
    assert "--8<--" not in (out / "benchmark.svg").read_text()  # it is included inline


@pytest.mark.slow  # the quick run takes seconds, workers included
@pytest.mark.timeout(150)
def test_every_process_it_started_is_reaped(quick_run):
    _, log = quick_run
    port = int(re.search(r"private redis-server on port (\d+)", log)[1])
    assert not port_open(port)
    # Workers, their pool children and the raw consumers all had the URL in their environment.
    marker = f"127.0.0.1:{port}/".encode()
    assert [p.name for p in Path("/proc").glob("[0-9]*") if marker in _environ(p)] == []


def _environ(proc: Path) -> bytes:
    try:
        return (proc / "environ").read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return b""


def test_make_bench_runs_this_module_and_the_page_shows_it():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M)[1]
    assert "benchmark.py" in recipe
    page = (ROOT / "docs" / "celery" / "benchmarks.md").read_text()
    assert re.search(r"^```bash( \{[^}\n]*\})?\nmake bench\n```$", page, re.M)
    assert "docs/_includes/benchmark-table.md" in page
    assert "docs/assets/benchmark.svg" in page
    assert "(../source/tools/benchmark.md)" in page
    assert "(../source/tests/tools/test_benchmark.md)" in page


def test_the_committed_chart_and_table_are_drawn_from_the_committed_run(tmp_path):
    # --redraw measures nothing: it draws the chart and the table again from benchmark.json.
    assets = ROOT / "docs" / "assets"
    (tmp_path / "benchmark.json").write_text((assets / "benchmark.json").read_text())
    argv = [sys.executable, str(ROOT / "tools" / "benchmark.py"), "--redraw",
            "--assets", str(tmp_path), "--includes", str(tmp_path)]
    proc = Proc(argv, dict(os.environ), tmp_path / "redraw.log").start()
    try:
        proc.proc.wait(timeout=60)
    finally:
        proc.stop()
    assert proc.proc.returncode == 0, proc.log
    assert (tmp_path / "benchmark.svg").read_text() == (assets / "benchmark.svg").read_text()
    table = ROOT / "docs" / "_includes" / "benchmark-table.md"
    assert (tmp_path / "benchmark-table.md").read_text() == table.read_text()
