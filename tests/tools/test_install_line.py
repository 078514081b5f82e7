"""tools/install_line.py: the pages' `pip install` line is pyproject.toml's, never stale."""

import install_line

from support.try_it import closure, parse_install_line


def test_the_committed_include_is_what_the_tool_writes_now():
    assert install_line.INCLUDE.read_text() == install_line.include(), (
        "docs/_includes/celery-install.md is stale: run `python tools/install_line.py`")


def test_the_line_names_the_runtime_dependencies_and_the_try_it_extra(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["celery[redis]>=5.7,<5.8", "fastapi"]\n'
                         '[project.optional-dependencies]\ntry-it = ["aiosmtpd>=1.4"]\n'
                         'test = ["pytest"]\n')
    assert install_line.line(pyproject) == (
        "pip install 'celery[redis]>=5.7,<5.8' fastapi 'aiosmtpd>=1.4'")


def test_every_requirement_of_the_line_is_installed_in_the_project_venv():
    requirements = parse_install_line(install_line.line())
    assert requirements == install_line.requirements()
    assert {"celery", "redis", "fastapi", "uvicorn", "aiosmtpd"} <= set(closure(requirements))
