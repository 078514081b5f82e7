"""Q53 and Q55: the application being deployed, in two releases.

Release 1 knows customers by name. Release 2 also stores an email, in the column that the
Databases section's expand migration adds (examples/databases/migrations, revision 0002).
Which release a process is comes from APP_VERSION, as a build would bake it in; the database
from DATABASE_URL.

    APP_VERSION=2 uvicorn release_app:app --port 8000
"""

import os

from fastapi import FastAPI, HTTPException
from sqlalchemy import create_engine, exc, text

VERSION = os.environ.get("APP_VERSION", "1")
engine = create_engine(
    os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@localhost:5432/guide"),
    pool_pre_ping=True)
UNAVAILABLE = {503: {"description": "The database refused the statement (schema or server)"}}
app = FastAPI(title="release app", version=VERSION)


@app.get("/health")
def health() -> dict:
    """What the load balancer's health check asks: the process answers, and which release."""
    return {"status": "ok", "version": VERSION}


# --8<-- [start:write]
@app.post("/customers", status_code=201, responses=UNAVAILABLE)
def create_customer(name: str, email: str = "") -> dict:
    if VERSION == "1":
        insert = text("INSERT INTO customers (name) VALUES (:name) RETURNING id")
    else:  # release 2 needs the expanded schema: the email column
        insert = text("INSERT INTO customers (name, email) VALUES (:name, :email) RETURNING id")
    try:
        with engine.begin() as conn:
            new_id = conn.execute(insert, {"name": name, "email": email or None}).scalar_one()
    except exc.DBAPIError as error:  # a missing column, a NOT NULL violation, no server
        raise HTTPException(503, f"release {VERSION}: {error.orig.__class__.__name__}") from None
    return {"id": new_id, "version": VERSION}
# --8<-- [end:write]
