"""Where things are: the project root and the folders the tests read or run from."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DOCS = ROOT / "docs"
TOOLS = ROOT / "tools"
# The Celery section's application root: its commands, and the processes the tests start, run
# here. (examples/ itself, every section's app roots, is support.docs_pages.ALL_EXAMPLES.)
EXAMPLES = ROOT / "examples" / "celery"
