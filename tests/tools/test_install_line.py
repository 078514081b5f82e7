"""tools/install_line.py: each section's `pip install` line is its pyproject extra, never stale."""

import install_line
import pytest
import sections

from support.try_it import closure, parse_install_line

SECTIONS = sections.all_sections()


@pytest.mark.parametrize("section", SECTIONS, ids=[s.name for s in SECTIONS])
def test_the_committed_include_is_what_the_tool_writes_now(section):
    assert section.install_include.read_text() == install_line.include(section), (
        f"{section.install_include.name} is stale: run `python tools/install_line.py`")


def test_the_line_names_the_sections_extra_and_nothing_else(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = []\n'
        '[project.optional-dependencies]\ncelery = ["celery[redis]>=5.7,<5.8", "fastapi"]\n'
        'databases = ["sqlalchemy>=2.0"]\ntest = ["pytest"]\n'
        '[[tool.guide.sections]]\nname = "celery"\ntitle = "Celery"\nquestions = [26, 34]\n'
        'services = ["redis"]\nabout = "."\n'
        '[[tool.guide.sections]]\nname = "databases"\ntitle = "Databases"\n'
        'questions = [35, 40]\nservices = ["postgres"]\nabout = "."\n')
    celery, databases = sections.load(pyproject)
    assert install_line.line(celery) == "pip install 'celery[redis]>=5.7,<5.8' fastapi"
    assert install_line.line(databases) == "pip install 'sqlalchemy>=2.0'"


@pytest.mark.parametrize("section", SECTIONS, ids=[s.name for s in SECTIONS])
def test_every_requirement_of_the_line_is_installed_in_the_project_venv(section):
    requirements = parse_install_line(install_line.line(section))
    assert requirements == install_line.requirements(section)
    assert {r.split("[")[0].split(">")[0] for r in requirements} <= set(closure(requirements))
