"""One artifact, many environments: every setting comes from the environment, a missing one
stops the process at once by name, and a secret never reaches a log line.

    APP_ENV=staging DATABASE_URL=postgresql+psycopg://app:pw@localhost:5432/staging \\
        PAYMENT_API_KEY=sk_test_123 python twelve_factor.py

It records its start (environment and time) in the database DATABASE_URL names.
"""

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import create_engine, text

log = logging.getLogger("twelve_factor")


# --8<-- [start:settings]
class Secret:
    """A value that prints as stars: in a log line, a repr, a traceback's locals."""

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: Secret  # a URL carries the database password
    payment_api_key: Secret


REQUIRED = ("DATABASE_URL", "PAYMENT_API_KEY")


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        sys.exit(f"missing required setting: {', '.join(missing)}")
    return Settings(environment=environ.get("APP_ENV", "development"),
                    database_url=Secret(environ["DATABASE_URL"]),
                    payment_api_key=Secret(environ["PAYMENT_API_KEY"]))
# --8<-- [end:settings]


# --8<-- [start:main]
def record_start(settings: Settings) -> None:
    engine = create_engine(settings.database_url.reveal())
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS starts "
                              "(environment text NOT NULL, at timestamptz DEFAULT now())"))
            conn.execute(text("INSERT INTO starts (environment) VALUES (:env)"),
                         {"env": settings.environment})
    finally:
        engine.dispose()
    log.info("recorded the start in %s", engine.url.render_as_string(hide_password=True))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()  # first: a missing setting stops here, before any work
    log.info("starting with %s", settings)
    record_start(settings)
# --8<-- [end:main]


if __name__ == "__main__":
    main()
