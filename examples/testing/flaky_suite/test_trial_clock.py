"""The trial's end date, tested twice: against today's date on the machine's clock (fails
in the hours when the local date is not yet or no longer the UTC one), and on a clock frozen
by time-machine (the same answer at any hour, anywhere)."""

from datetime import UTC, date, datetime

from trial_period import TRIAL, start_trial


# --8<-- [start:clock]
def test_trial_ends_in_fourteen_days_from_today():
    assert start_trial().ends_on == date.today() + TRIAL  # today where the tests run


def test_trial_ends_in_fourteen_days_on_a_frozen_clock(time_machine):
    time_machine.move_to(datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC), tick=False)
    assert start_trial().ends_on == date(2026, 4, 14)
# --8<-- [end:clock]
