"""A login session that any instance can read: the state lives in Redis, not in the process.

    SESSION_STORE=redis REDIS_URL=redis://localhost:6379/0 uvicorn sessions_app:app --port 8001

SESSION_STORE=memory keeps sessions in the process instead, which works with one instance and
loses them as soon as a load balancer sends a request to another. INSTANCE names the
instance in every answer (default: the host name), so you can see which one answered.
"""

import os
import secrets
import socket

import redis
from fastapi import Cookie, FastAPI, Request
from fastapi.responses import JSONResponse

INSTANCE = os.environ.get("INSTANCE", socket.gethostname())


# --8<-- [start:stores]
class MemoryStore:
    """Sessions in this process: gone on restart, invisible to every other instance."""

    def __init__(self):
        self._sessions: dict[str, str] = {}

    def save(self, sid: str, user: str) -> None:
        self._sessions[sid] = user

    def load(self, sid: str) -> str | None:
        return self._sessions.get(sid)


class RedisStore:
    """Sessions in Redis: every instance reads the same ones, and they expire on their own."""

    def __init__(self, url: str, ttl_seconds: int = 3600):
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._ttl = ttl_seconds

    def save(self, sid: str, user: str) -> None:
        self._redis.set(f"session:{sid}", user, ex=self._ttl)

    def load(self, sid: str) -> str | None:
        user = self._redis.get(f"session:{sid}")
        return user.decode() if user is not None else None
# --8<-- [end:stores]


def store_from_env() -> MemoryStore | RedisStore:
    if os.environ.get("SESSION_STORE", "redis") == "memory":
        return MemoryStore()
    return RedisStore(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


store = store_from_env()
app = FastAPI(title="sessions")


# --8<-- [start:routes]
@app.post("/login", responses={503: {"description": "The session store is unreachable"}})
def login(user: str) -> JSONResponse:
    sid = secrets.token_urlsafe(16)
    store.save(sid, user)
    response = JSONResponse({"user": user, "instance": INSTANCE})
    response.set_cookie("sid", sid, httponly=True, samesite="lax")
    return response


@app.get("/me", responses={401: {"description": "No session, or this instance lacks it"},
                           503: {"description": "The session store is unreachable"}})
def me(sid: str | None = Cookie(default=None)) -> JSONResponse:
    user = store.load(sid) if sid else None
    if user is None:
        return JSONResponse({"detail": "not logged in", "instance": INSTANCE}, status_code=401)
    return JSONResponse({"user": user, "instance": INSTANCE})
# --8<-- [end:routes]


@app.get("/healthz")
def healthz() -> dict:
    return {"instance": INSTANCE}


@app.exception_handler(redis.RedisError)
def store_down(request: Request, exc: redis.RedisError) -> JSONResponse:
    return JSONResponse({"detail": "session store unavailable"}, status_code=503)
