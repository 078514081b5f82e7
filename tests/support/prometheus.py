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
import urllib.parse
import urllib.request

from .server import Server


class Prometheus(Server):
    program = "prometheus"
    ready_within = 60.0
    stop_within = 15.0

    def __init__(self, targets: list[str], interval: str = "1s"):
        super().__init__()
        self.targets, self.interval = targets, interval

    def argv(self) -> list[str]:
        exe = shutil.which("prometheus")
        if exe is None:
            raise RuntimeError("prometheus is not installed: run tools/system-deps "
                               "(Debian: apt-get install prometheus)")
        config = self.root / "prometheus.yml"
        config.write_text(json.dumps({  # YAML is a superset of JSON
            "global": {"scrape_interval": self.interval, "evaluation_interval": self.interval},
            "scrape_configs": [{"job_name": "app", "static_configs": [
                {"targets": self.targets}]}],
        }))
        return [exe, f"--config.file={config}", f"--storage.tsdb.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}"]

    def ready(self) -> bool:
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
