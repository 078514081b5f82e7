"""A mistake kept on purpose: two `POST /signup` routes on one app.

Shown on docs/celery/q27-celery-vs-backgroundtasks.md.

The usual version shows the BackgroundTasks signup and the Celery signup one
after the other, both as `@app.post("/signup")` on the same app. FastAPI keeps
both routes, and the first one registered answers every request: the Celery
version is never reached. The only sign is a warning, "Duplicate Operation ID",
when the OpenAPI document is first built (at the first request for /docs or
/openapi.json); the app starts and serves without a word.
tests/celery/test_mistake_two_signups.py shows it.

The fix is in api.py: each version is a router with its own prefix
(/q27/background and /q27/celery), so both can be called.
"""

from fastapi import BackgroundTasks, FastAPI
from signup_background import send_welcome_email_sync
from signup_celery import send_welcome_email
from users import SignupIn, create_user

# --8<-- [start:two_signups]
app = FastAPI()


@app.post("/signup")
def signup(user: SignupIn, background_tasks: BackgroundTasks) -> dict:
    create_user(user.email)
    background_tasks.add_task(send_welcome_email_sync, user.email)
    return {"message": "User created"}


@app.post("/signup")  # same method, same path: registered, and never called
def signup(user: SignupIn) -> dict:  # noqa: F811 (the usual version reuses the name too)
    create_user(user.email)
    task = send_welcome_email.delay(user.email)
    return {"message": "User created", "task_id": task.id}
# --8<-- [end:two_signups]
