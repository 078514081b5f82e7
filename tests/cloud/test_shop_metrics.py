"""Q52: prometheus-client counters scraped by a real Prometheus: the error ratio PromQL computes
is the injected one, and a label with unbounded values makes one series per value."""

import pytest

from support.includes import write_include
from support.load import request
from support.prometheus import Prometheus
from support.waiting import wait_until

CHECKOUTS, FAILURE_EVERY, USERS = 200, 5, 100
RATIO = ('sum(http_requests_total{route="/checkout",status=~"5.."})'
         ' / sum(http_requests_total{route="/checkout"})')


@pytest.mark.slow
def test_promql_error_ratio_matches_the_injected_rate_and_labels_multiply_series(instances):
    app = instances("shop_metrics:app", PAYMENT_FAILURE_EVERY=str(FAILURE_EVERY))
    statuses = [request(f"{app.url}/checkout?user_id={n % USERS}", "POST")[0]
                for n in range(CHECKOUTS)]
    assert statuses.count(502) == CHECKOUTS // FAILURE_EVERY
    server = Prometheus([f"127.0.0.1:{app.port}"]).start()
    try:
        wait_until(lambda: server.value('sum(http_requests_total{route="/checkout"})')
                   == CHECKOUTS, 30, "Prometheus to scrape every checkout")
        ratio = server.value(RATIO)
        per_user = server.value("count(checkouts_by_user_total)")
        per_route = server.value('count(http_requests_total{route="/checkout"})')
    finally:
        server.stop()
    assert ratio == pytest.approx(1 / FAILURE_EVERY)
    assert per_user == USERS
    assert per_route == 2  # status 200 and status 502
    write_include("q52-metrics.md", "\n".join([
        "| What the test did | What Prometheus answered |", "|---|---|",
        f"| {CHECKOUTS} checkouts, every {FAILURE_EVERY}th payment failing on purpose | "
        f"error ratio `{ratio:g}` |",
        f"| The same {CHECKOUTS} checkouts from {USERS} users | "
        f"`http_requests_total` (route, status): {per_route:g} series; "
        f"`checkouts_by_user_total` (user_id): {per_user:g} series |"]))
