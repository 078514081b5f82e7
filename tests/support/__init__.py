"""Real processes for the tests: Redis, Celery workers and Beat, SMTP, uvicorn."""
