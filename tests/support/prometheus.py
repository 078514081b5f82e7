"""A private Prometheus (Debian's `prometheus`) scraping loopback targets every second.

    server = Prometheus(["127.0.0.1:8001", "127.0.0.1:8002"]).start()
    server.query('sum(http_requests_total)')     # the instant vector: [(labels, value), ...]
    server.value('sum(http_requests_total)')     # one number (the vector's single sample)
    server.stop()

Its time-series database lives in a temporary folder; it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from .waiting import free_port, wait_until


class Prometheus:
    def __init__(self, targets: list[str], interval: str = "1s"):
        self.targets, self.interval = targets, interval
        self.port = free_port()
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Prometheus:
        exe = shutil.which("prometheus")
        if exe is None:
            raise RuntimeError("prometheus is not installed: run tools/system-deps "
                               "(Debian: apt-get install prometheus)")
        self.root = Path(tempfile.mkdtemp(prefix="guide-prometheus-"))
        config = self.root / "prometheus.yml"
        config.write_text(json.dumps({  # YAML is a superset of JSON
            "global": {"scrape_interval": self.interval, "evaluation_interval": self.interval},
            "scrape_configs": [{"job_name": "app", "static_configs": [
                {"targets": self.targets}]}],
        }))
        with open(self.root / "prometheus.log", "wb") as log:
            self.proc = subprocess.Popen(
                [exe, f"--config.file={config}", f"--storage.tsdb.path={self.root / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(self._ready, 60, f"prometheus on port {self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited {self.proc.returncode}:\n"
                               + (self.root / "prometheus.log").read_text()[-2000:])
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def query(self, promql: str) -> list[tuple[dict, float]]:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            data = json.load(response)["data"]
        return [(sample["metric"], float(sample["value"][1])) for sample in data["result"]]

    def value(self, promql: str) -> float | None:
        samples = self.query(promql)
        return samples[0][1] if len(samples) == 1 else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
