"""Q43: what pytest does with fixtures, shown by running small suites with pytest's own
`pytester`: scope, yield teardown in reverse order even after a failure, conftest.py, and a
session fixture under pytest-xdist running once per worker."""

import pytest

pytest_plugins = ["pytester"]

RECORDING = """
    import os, pytest

    def record(event):
        with open(os.environ["EVENTS"], "a") as f:
            f.write(f"{os.getpid()} {event}\\n")
"""


@pytest.fixture
def events(pytester, monkeypatch):
    path = pytester.path / "events.txt"
    monkeypatch.setenv("EVENTS", str(path))
    return lambda: path.read_text().split("\n")[:-1] if path.exists() else []


def test_scope_decides_how_often_a_fixture_is_set_up(pytester, events):
    pytester.makeconftest(RECORDING + """
    @pytest.fixture(scope="session")
    def per_session(): record("session")

    @pytest.fixture(scope="module")
    def per_module(): record("module")

    @pytest.fixture
    def per_test(): record("function")
    """)
    body = "def test_{}(per_session, per_module, per_test): pass\n"
    pytester.makepyfile(test_one=body.format("a") + body.format("b"),
                        test_two=body.format("c") + body.format("d"))
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=4)
    made = [line.split()[1] for line in events()]
    assert {scope: made.count(scope) for scope in set(made)} == {
        "session": 1, "module": 2, "function": 4}


def test_teardown_runs_in_reverse_order_even_after_a_failure(pytester, events):
    pytester.makeconftest(RECORDING + """
    @pytest.fixture
    def first():
        record("set up first"); yield; record("tear down first")

    @pytest.fixture
    def second(first):
        record("set up second"); yield; record("tear down second")
    """)
    pytester.makepyfile("def test_fails(second):\n    assert 1 == 2\n")
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(failed=1)
    assert [line.split(" ", 1)[1] for line in events()] == [
        "set up first", "set up second", "tear down second", "tear down first"]


def test_a_conftest_shares_fixtures_with_its_folder_and_a_nearer_one_overrides(pytester):
    pytester.makeconftest("""
    import pytest

    @pytest.fixture
    def currency(): return "EUR"
    """)
    pytester.makepyfile(test_shop="def test_default(currency): assert currency == 'EUR'")
    pytester.mkdir("us")
    (pytester.path / "us" / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef currency(): return 'USD'\n")
    pytester.makepyfile(**{"us/test_us_shop": "def test_us(currency): assert currency == 'USD'"})
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)


@pytest.mark.slow
def test_a_session_fixture_runs_once_per_xdist_worker(pytester, events):
    pytester.makeconftest(RECORDING + """
    @pytest.fixture(scope="session")
    def expensive(): record("session set up")
    """)
    pytester.makepyfile("\n".join(f"def test_{n}(expensive): pass" for n in range(8)))
    pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2").assert_outcomes(passed=8)
    lines = events()
    assert len(lines) == 2 and len({line.split()[0] for line in lines}) == 2  # two workers
