"""A free trial that ends a number of days after sign-up, for Q44: code that reads the clock,
and a test that reads it again a moment later."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# --8<-- [start:trial]
TRIAL = timedelta(days=14)


@dataclass(frozen=True)
class Trial:
    started: datetime
    ends_on: date


def start_trial() -> Trial:
    now = datetime.now(UTC)
    return Trial(started=now, ends_on=(now + TRIAL).date())
# --8<-- [end:trial]
