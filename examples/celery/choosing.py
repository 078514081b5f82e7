"""Q27: choosing the right tool: fire-and-forget logging vs. a mail that must go out."""

import logging
import smtplib

import mailer
from broker_errors import answers, publish
from celery_app import app as celery_app
from fastapi import APIRouter, BackgroundTasks
from mailer import Address
from pydantic import BaseModel, ConfigDict, Field

router = APIRouter(tags=["Q27 choosing"])
audit = logging.getLogger("audit")


# --8<-- [start:action]
def log_action(action: str) -> None:
    audit.info("action: %s", action)


@router.post("/action")
def action(background_tasks: BackgroundTasks) -> dict:
    # Losing one audit line in a crash is acceptable: BackgroundTasks is enough.
    background_tasks.add_task(log_action, "user_action")
    return {"status": "ok"}
# --8<-- [end:action]


# --8<-- [start:order]
class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int = Field(gt=0)
    email: Address


@celery_app.task(
    autoretry_for=(smtplib.SMTPException, OSError),  # retried without a try/except
    retry_backoff=True,  # 1 s, 2 s, 4 s… with jitter
    max_retries=5,
)
def send_order_confirmation(order_id: int, email: str) -> str:
    return mailer.send_mail(email, f"Order {order_id} confirmed", "Thank you for your order.")


@router.post("/order", status_code=202, responses=answers(400, 503))
def create_order(order: Order) -> dict:
    # The confirmation must be sent: it goes through the broker.
    publish(send_order_confirmation.delay, order.id, order.email)
    return {"order_id": order.id}
# --8<-- [end:order]
