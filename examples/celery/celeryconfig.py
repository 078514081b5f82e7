"""Q28: the detailed configuration, as a module the app really loads.

`celery_app.py` calls `app.config_from_object("celeryconfig")`, so every
setting here is live in the worker, in Beat and in the API process.
"""

import os

# --8<-- [start:broker]
# Broker and result backend come from the environment, with local defaults.
broker_url = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
result_backend = os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/0")

# kombu's socket timeouts default to None: a broker that accepts the
# connection but never answers would hang a publisher forever.
broker_transport_options = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "visibility_timeout": 3600,  # the Redis default, made visible (see Pitfalls)
}
broker_connection_timeout = 2
# A publish is retried 3 times by default, each try waiting out the socket
# timeout: a silent broker would hold a request for 10 s and more. One try,
# then a 503 the client can retry (kombu's max_retries=0 means no retry).
task_publish_retry_policy = {"max_retries": 0}
# The result backend has its own connection and its own timeouts.
redis_socket_timeout = 1
redis_socket_connect_timeout = 1
# At send time the result backend also subscribes to the task's result channel,
# and by default retries that 20 times, a second apart: a dead or silent Redis
# would hold a request for 20 s to over a minute. Fail at once instead (about
# 2 socket timeouts); broker_errors.publish turns the RuntimeError into a 503.
result_backend_transport_options = {"retry_policy": {"max_retries": 0}}
# Since 5.5 Celery only warns when broker_connection_retry is False;
# saying it explicitly documents that the worker waits for Redis at startup.
broker_connection_retry_on_startup = True
# --8<-- [end:broker]

# --8<-- [start:results]
# Results live 1 hour instead of the default 1 day (a SETEX with this TTL).
result_expires = 3600
# STARTED instead of PENDING while a task runs (PENDING also means "unknown id").
task_track_started = True
# --8<-- [end:results]

# --8<-- [start:serialization]
# JSON only: with pickle, anyone who can write to the broker runs code on the worker.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
# timezone="UTC" and enable_utc=True are already the defaults.
# --8<-- [end:serialization]

# --8<-- [start:execution]
# Acknowledge after the task returns, and requeue it if its process dies:
# a crash means "run again", so tasks must be idempotent.
task_acks_late = True
task_reject_on_worker_lost = True
# Per pool process: with -c 4, the worker reserves up to 4 messages, not 1.
worker_prefetch_multiplier = 1
# --8<-- [end:execution]

# --8<-- [start:routing]
# Keys are the registered names: tasks defined in celery_app.py are
# "celery_app.<function>", whatever name the Celery() instance was given.
task_routes = {
    "celery_app.send_email": {"queue": "emails"},
    "celery_app.process_image": {"queue": "images"},
}
# A worker must consume these queues: celery -A celery_app worker -Q celery,emails,images
# --8<-- [end:routing]
