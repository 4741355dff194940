"""A Slack interaction endpoint instrumented only with Sentry's SDK for Python, as the seed
incident's app was: it continues the trace from the request's `sentry-trace` and `baggage`
headers (it never reads `traceparent`) and sends its transaction to SENTRY_DSN.

    python sentry_slack_app.py PORT_FILE

Listens on a free loopback port, writes the port to PORT_FILE, and acknowledges every POST with
200 inside a transaction "POST /slack/interactions" holding one child span. Runs until killed.
"""

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sentry_sdk

sentry_sdk.init(traces_sample_rate=1.0, server_name="sentry-slack-app", default_integrations=False)


class Interaction(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        incoming = {name: self.headers[name] for name in ("sentry-trace", "baggage") if name in self.headers}
        transaction = sentry_sdk.continue_trace(
            incoming, op="http.server", name="POST /slack/interactions", source="route"
        )
        with sentry_sdk.start_transaction(transaction):
            with sentry_sdk.start_span(op="queue.submit.celery", name="open_modal"):
                time.sleep(0.01)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
        sentry_sdk.flush(timeout=5)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Interaction)
with open(sys.argv[1], "w") as port_file:
    port_file.write(str(server.server_address[1]))
server.serve_forever()
