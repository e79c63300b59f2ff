// A webhook sender in its own process, for the crash test: opens the outbox in argv[2], publishes
// one event to the endpoint URL in argv[3] (if not already there) and keeps retrying until killed.
import { pino } from 'pino';
import { parseAllowList } from '../../src/webhooks/ssrf-guard.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { buildEvent } from '../../src/webhooks/webhook-event.js';
import { WebhookOutbox } from '../../src/webhooks/webhook-outbox.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';

const [directory, url, secret] = process.argv.slice(2) as [string, string, string];
const logger = pino({ level: 'silent' });
const outbox = await WebhookOutbox.open({ directory, logger });
const dispatcher = new WebhookDispatcher({
  outbox,
  sender: new WebhookSender({ allow: parseAllowList(['127.0.0.1/32']) }),
  endpoints: () => new Map([['ep', { id: 'ep', url, secrets: [secret], events: [], timeoutMs: 2000 }]]),
  logger,
  retry: { initialDelayMs: 100, maxDelayMs: 200, jitter: 0 },
});
dispatcher.start();
const event = buildEvent(
  {
    schema_version: '1',
    id: 'evt_crashtest',
    type: 'throttle.engaged',
    timestamp: new Date().toISOString(),
    data: {} as never,
  },
  'b1',
  'b1',
);
await dispatcher.publish(event, ['ep']);
process.stdout.write('published\n');
setInterval(() => undefined, 1000);
