"""The repository's tests, on the fixtures of conftest.py (pytest finds them by name)."""

import pytest
from customer_store import CustomerExists, customers, find_customer
from sqlalchemy import func, select


# --8<-- [start:tests]
@pytest.mark.parametrize("spelling", ["ann@example.com", "ANN@EXAMPLE.COM", "Ann@Example.com"])
def test_lookup_ignores_case(make_customer, db, spelling):
    ann = make_customer("Ann@Example.com")
    assert find_customer(db, spelling)["id"] == ann


def test_an_address_is_taken_once(make_customer):
    make_customer("bo@example.com")
    with pytest.raises(CustomerExists):
        make_customer("BO@example.com")


def test_no_rows_from_other_tests(db):
    assert db.scalar(select(func.count()).select_from(customers)) == 0
# --8<-- [end:tests]
