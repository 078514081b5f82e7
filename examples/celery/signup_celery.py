"""Q27: the same signup with Celery.

The welcome mail becomes a message in Redis; any worker runs it, and with
acks late it is acknowledged only once it has been sent.
"""

import time

import mailer
from broker_errors import answers, publish
from celery_app import app as celery_app  # `@celery_app.task` needs the app, not the module
from fastapi import APIRouter
from users import SignupIn, create_user

router = APIRouter(tags=["Q27 Celery"])


# --8<-- [start:signup]
SLOW_WORK_SECONDS = 2  # stands for slow work: rendering the mail, a slow provider


@celery_app.task
def send_welcome_email(email: str) -> str:
    time.sleep(SLOW_WORK_SECONDS)
    return mailer.send_mail(email, "Welcome!", "Thanks for signing up.")


@router.post("/signup", status_code=201, responses=answers(400, 503))
def signup(user: SignupIn) -> dict:
    create_user(user.email)
    task = publish(send_welcome_email.delay, user.email)
    return {"message": "User created", "task_id": task.id}
# --8<-- [end:signup]
