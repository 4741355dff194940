// A Bolt for JavaScript app with default settings (token verification on, the HTTP receiver
// checking signatures), pointed at tracedeck's mock Web API with clientOptions.slackApiUrl.
// tracedeck's end-to-end replay tests run it (tests/replay_live.rs).
//
// Environment: MODE=buggy|fixed, PORT, SLACK_API_URL (http://127.0.0.1:PORT/api/),
// SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET.
//   buggy: acks, then opens the modal from queued work 3.3 s later, after the trigger expired.
//   fixed: acks, opens a loading modal at once, then updates it when the work is done.
const { App, LogLevel } = require('@slack/bolt');

const mode = process.env.MODE;
if (mode !== 'buggy' && mode !== 'fixed') {
  console.error('bolt_app: MODE must be buggy or fixed');
  process.exit(2);
}
const QUEUE_DELAY_MS = mode === 'buggy' ? 3300 : 200;

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  logLevel: LogLevel.WARN,
});

const modal = (text) => ({
  type: 'modal',
  callback_id: 'resolve_incident',
  title: { type: 'plain_text', text: 'Resolve incident' },
  close: { type: 'plain_text', text: 'Close' },
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});

const later = (work) => setTimeout(() => work().catch((e) => console.error(`bolt_app: ${e.message}`)), QUEUE_DELAY_MS);

app.action('resolve_dialog', async ({ ack, body, client }) => {
  await ack();
  if (mode === 'buggy') {
    later(() => client.views.open({ trigger_id: body.trigger_id, view: modal('Fill in the details below.') }));
  } else {
    const opened = await client.views.open({ trigger_id: body.trigger_id, view: modal('Loading…') });
    later(() => client.views.update({ view_id: opened.view.id, hash: opened.view.hash, view: modal('Fill in the details below.') }));
  }
});

(async () => {
  await app.start(Number(process.env.PORT));
  console.log(`bolt_app: ${mode} mode on port ${process.env.PORT}`);
})();
