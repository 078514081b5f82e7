"""Q28: what `.delay()` really sends, built offline (no Redis, no worker needed).

Run it from examples/ with `python message_anatomy.py`. The Q28 page shows
it, and the docs tests check every `#>` line against a real run.
"""

# --8<-- [start:anatomy]
import base64
import json

from celery_app import app, send_email

# 1. The client checks the arguments against the task's signature first.
try:
    send_email.delay("user@example.com")
except TypeError as exc:
    print(exc)
    #> send_email() missing 2 required positional arguments: 'subject' and 'body'

# 2. Publish through kombu's in-memory transport: the envelope is the same dict
#    the Redis transport serialises to JSON and LPUSHes onto the queue's list.
with app.connection_for_write("memory://") as conn:
    send_email.apply_async(
        ("user@example.com", "Hi", "Welcome"),
        task_id="abc-123",
        connection=conn,
        ignore_result=True,  # keeps the result backend out of this demo
    )
    envelope = conn.default_channel._get("emails")  # what the worker's BRPOP returns

print(sorted(envelope))
#> ['body', 'content-encoding', 'content-type', 'headers', 'properties']
print(envelope["headers"]["task"], envelope["headers"]["id"], envelope["headers"]["retries"])
#> celery_app.send_email abc-123 0
print(envelope["properties"]["delivery_info"], envelope["properties"]["body_encoding"])
#> {'exchange': '', 'routing_key': 'emails'} base64

# 3. Protocol 2: the body is base64 of [args, kwargs, embed], not {"id", "task", ...}.
args, kwargs, embed = json.loads(base64.b64decode(envelope["body"]))
print(args, kwargs)
#> ['user@example.com', 'Hi', 'Welcome'] {}
print(embed)
#> {'callbacks': None, 'errbacks': None, 'chain': None, 'chord': None}
# --8<-- [end:anatomy]
