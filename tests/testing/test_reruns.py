"""Q44: `--reruns` (pytest-rerunfailures) turns a test that fails one run in two into a green
build: the flake is still there, and the report's only trace is a rerun count."""

pytest_plugins = ["pytester"]

# Fails on its first call in each session, passes on the second: a flake in miniature.
FLAKY = """
import itertools

calls = itertools.count()


def test_flaky():
    assert next(calls) % 2 == 1
"""


def test_reruns_report_a_flaky_test_as_passed(pytester):
    pytester.makepyfile(test_flaky=FLAKY)
    without = pytester.runpytest_inprocess("-p", "no:randomly")
    without.assert_outcomes(failed=1)
    rerun = pytester.runpytest_inprocess("-p", "no:randomly", "--reruns", "2")
    assert rerun.parseoutcomes() == {"passed": 1, "rerun": 1}
    assert rerun.ret == 0  # the build is green
