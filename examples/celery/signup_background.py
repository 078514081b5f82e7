"""Q27: signup with FastAPI's BackgroundTasks.

The welcome mail is sent by the API process itself, after the response.
If that process dies first, nothing remembers that the mail was due.
"""

import time

import mailer
from broker_errors import answers
from fastapi import APIRouter, BackgroundTasks
from users import SignupIn, create_user

router = APIRouter(tags=["Q27 BackgroundTasks"])


# --8<-- [start:signup]
SLOW_WORK_SECONDS = 2  # stands for slow work: rendering the mail, a slow provider


def send_welcome_email_sync(email: str) -> None:
    time.sleep(SLOW_WORK_SECONDS)
    mailer.send_mail(email, "Welcome!", "Thanks for signing up.")


@router.post("/signup", status_code=201, responses=answers(400))
def signup(user: SignupIn, background_tasks: BackgroundTasks) -> dict:
    create_user(user.email)
    # Runs in this process once the response has been sent.
    background_tasks.add_task(send_welcome_email_sync, user.email)
    return {"message": "User created"}
# --8<-- [end:signup]
