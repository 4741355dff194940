"""A short app for tracedeck's end-to-end tests: the real Sentry SDK for Python records one
Slack interaction (a transaction with child spans) and sends it where the environment says:
SENTRY_DSN (gzip-compressed envelopes to /api/{project}/envelope/) or SENTRY_SPOTLIGHT (plain
envelopes to /stream).

    python sentry_transaction.py pass|miss [stream]

The request is acknowledged after 0.1 s; `pass` opens the modal 0.2 s after the request arrived,
`miss` 3.4 s after (the trigger_id has expired). The times are given to the SDK, so the app runs
in well under a second. `stream` uses
span streaming (span v2 items; times are then real, so only `pass` makes sense with it).
Prints the trace id.
"""

import sys
import time
from datetime import datetime, timedelta, timezone

import sentry_sdk

outcome = sys.argv[1]
streaming = sys.argv[2:] == ["stream"]
experiments = {"transport_compression_algo": "gzip"}
if streaming:
    experiments["trace_lifecycle"] = "stream"
sentry_sdk.init(
    traces_sample_rate=1.0,
    server_name="incident-bot",
    release="incident-bot@1.0.0",
    environment="ci",
    default_integrations=False,
    _experiments=experiments,
)

if streaming:
    with sentry_sdk.traces.start_span(
        name="POST /slack/interactions", attributes={"sentry.op": "http.server"}
    ) as request:
        with sentry_sdk.traces.start_span(name="SELECT incident", attributes={"sentry.op": "db"}):
            time.sleep(0.02)
        with sentry_sdk.traces.start_span(
            name="POST https://slack.com/api/views.open", attributes={"sentry.op": "http.client"}
        ):
            time.sleep(0.05)
        trace_id = request.trace_id
else:
    t0 = datetime.now(timezone.utc)

    def at(seconds):
        return t0 + timedelta(seconds=seconds)

    opened = 0.2 if outcome == "pass" else 3.4
    transaction = sentry_sdk.start_transaction(
        op="http.server", name="POST /slack/interactions", source="route", start_timestamp=t0
    )
    transaction.set_http_status(200)
    db = transaction.start_child(op="db.query", name="SELECT incident", start_timestamp=at(0.01))
    db.set_data("db.system", "postgresql")
    db.finish(end_timestamp=at(0.04))
    queued = transaction.start_child(op="queue.submit.celery", name="open_modal", start_timestamp=at(0.05))
    queued.finish(end_timestamp=at(0.06))
    views_open = transaction.start_child(
        op="http.client", name="POST https://slack.com/api/views.open", start_timestamp=at(opened)
    )
    if outcome == "miss":
        views_open.set_status("internal_error")
        views_open.set_data("slack.error", "expired_trigger_id")
    views_open.finish(end_timestamp=at(opened + 0.15))
    transaction.finish(end_timestamp=at(0.1))
    trace_id = transaction.trace_id

sentry_sdk.flush(timeout=10)
print(trace_id)
