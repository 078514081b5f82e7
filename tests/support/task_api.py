"""Reading a task's state through the API, as a browser or a script would."""

from .waiting import wait_until


def poll_status(client, status_url: str, *states: str, timeout: float = 15) -> dict:
    """GET `status_url` (e.g. "/task/<id>") until its status is one of `states`; return the JSON.

    `client` is anything with an httpx-like `.get`: FastAPI's TestClient or httpx.Client.
    """

    def seen():
        response = client.get(status_url)
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["status"] in states else None

    return wait_until(seen, timeout, f"{status_url} to reach {'/'.join(states)}")
