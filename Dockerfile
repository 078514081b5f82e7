# The sandbox image: each section's examples/<section>/ is the application root of its services
# (/app/celery for the worker, Beat, the API and Flower).
# docs/sandbox.md explains how to use it; tests/sandbox/test_sandbox_validation.py lints this file.
# No `# syntax=` line: nothing here needs a newer Dockerfile frontend than the engine's own,
# and the line would make every BuildKit build fetch one from a registry.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_DIR=/app/media

# Every section's extra (pyproject.toml's [tool.guide] names the sections) and what it pulls in,
# at the pins of requirements.lock, with their sha256 hashes (`make lock` writes both locks):
# pip refuses any file whose hash differs and any package the lock does not name.
COPY requirements-image.lock /tmp/
RUN pip install --no-cache-dir --require-hashes --requirement /tmp/requirements-image.lock \
 && rm /tmp/requirements-image.lock

# An unprivileged user owns only what it must write: the media folder and Beat's schedule.
# Docker copies these folders (owner and files) into empty named volumes mounted on them,
# which is how the sample images reach the `media` volume.
RUN groupadd --system --gid 10001 app \
 && useradd --no-log-init --system --uid 10001 --gid app --create-home app \
 && mkdir -p /app/media /var/lib/celery-beat \
 && chown app:app /app/media /var/lib/celery-beat
COPY --chown=app:app examples/celery/sample_media/ /app/media/
# The code stays root-owned: the app user can run it, not change it.
COPY examples/ /app/
WORKDIR /app/celery

# Numeric, so that a runtime can check "not root" without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000 5555
CMD ["uvicorn", "api:app", "--host", "0.0.0.0", "--port", "8000"]
