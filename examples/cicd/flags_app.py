"""Q56: an API whose new checkout is behind a feature flag, read from an Unleash server.

The client fetches every flag at start and again every UNLEASH_REFRESH_INTERVAL seconds, and
evaluates them in-process: a flag flipped on the server reaches every instance within one
interval, without a restart; a percentage rollout hashes the user id, so a user stays on the
side they landed on; and if the server goes away the last flags fetched keep being served.

    UNLEASH_URL=http://localhost:4242/api UNLEASH_API_TOKEN=... uvicorn flags_app:app
"""

import os
import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI
from UnleashClient import UnleashClient

FLAG = "new-checkout"
UNLEASH_URL = os.environ.get("UNLEASH_URL", "http://localhost:4242/api")
UNLEASH_API_TOKEN = os.environ.get("UNLEASH_API_TOKEN", "")
REFRESH_INTERVAL = int(os.environ.get("UNLEASH_REFRESH_INTERVAL", "15"))  # seconds


# --8<-- [start:client]
def flag_client() -> UnleashClient:
    return UnleashClient(
        url=UNLEASH_URL,
        app_name="checkout-api",
        instance_id=socket.gethostname(),
        refresh_interval=REFRESH_INTERVAL,
        refresh_jitter=0,
        custom_headers={"Authorization": UNLEASH_API_TOKEN},
        disable_metrics=True,
    )


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.flags = flag_client()
    app.state.flags.initialize_client()  # the first fetch; then one per refresh interval
    yield
    app.state.flags.destroy()


app = FastAPI(title="checkout with a feature flag", lifespan=lifespan)


@app.get("/checkout")
def checkout(user_id: str) -> dict:
    """Which checkout this user gets: decided in-process from the last flags fetched."""
    new = app.state.flags.is_enabled(FLAG, {"userId": user_id})
    return {"user_id": user_id, "checkout": "new" if new else "old"}
# --8<-- [end:client]
