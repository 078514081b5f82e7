"""Metrics a load balancer cannot give you: requests by route and status, exposed for
Prometheus at /metrics, and the label that must not be there.

    PAYMENT_FAILURE_EVERY=5 uvicorn shop_metrics:app --port 8001

PAYMENT_FAILURE_EVERY=N makes every Nth payment fail (fault injection, as a chaos test or a
staging environment does); 0, the default, never fails on purpose.
"""

import itertools
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter, make_asgi_app

FAILURE_EVERY = int(os.environ.get("PAYMENT_FAILURE_EVERY", "0"))
_payments = itertools.count(1)

app = FastAPI(title="shop")
app.mount("/metrics", make_asgi_app())

# --8<-- [start:metrics]
REQUESTS = Counter("http_requests_total", "Requests answered, by route and status",
                   ["route", "status"])
# The mistake: a label whose values are unbounded. Each user is one more time series.
CHECKOUTS_BY_USER = Counter("checkouts_by_user_total", "Checkouts per user", ["user_id"])


@app.middleware("http")
async def count_requests(request: Request, call_next):
    response = await call_next(request)
    route = request.scope.get("route")
    if route is not None:  # a template such as /checkout, never the raw path
        REQUESTS.labels(route.path, str(response.status_code)).inc()
    return response
# --8<-- [end:metrics]


# --8<-- [start:checkout]
@app.post("/checkout", responses={502: {"description": "The payment provider failed"}})
def checkout(user_id: int) -> JSONResponse:
    CHECKOUTS_BY_USER.labels(str(user_id)).inc()
    if FAILURE_EVERY and next(_payments) % FAILURE_EVERY == 0:
        return JSONResponse({"detail": "payment provider failed"}, status_code=502)
    return JSONResponse({"status": "paid"})
# --8<-- [end:checkout]
