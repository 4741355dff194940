"""A Bolt for Python app in Socket Mode, for tracedeck's replay test (tests/replay_bolt.rs).

Usage: SLACK_APP_TOKEN=xapp-... SLACK_BOT_TOKEN=xoxb-... SLACK_API_URL=http://127.0.0.1:PORT/api/ \
    python bolt_socket_app.py buggy|fixed

Any button click is acked at once. buggy: the work then waits 3.4 s (a backed-up queue) before
views.open, after the trigger_id expired. fixed: views.open a loading modal at once, then
views.update it after the wait.
"""

import os
import re
import sys
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

MODE = sys.argv[1]
QUEUE_DELAY = 3.4


def modal(text):
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Resolve incident"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
app = App(client=client)


@app.action(re.compile(".*"))
def on_click(ack, body, client):
    ack()
    if MODE == "buggy":
        time.sleep(QUEUE_DELAY)
        client.views_open(trigger_id=body["trigger_id"], view=modal("Fill in the details below."))
    else:
        opened = client.views_open(trigger_id=body["trigger_id"], view=modal("Loading…"))
        time.sleep(0.2)
        view = opened["view"]
        client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Fill in the details below."))


if __name__ == "__main__":
    SocketModeHandler(app, os.environ["SLACK_APP_TOKEN"]).start()
