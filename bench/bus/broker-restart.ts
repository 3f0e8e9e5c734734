/**
 * Chaos check, run by hand on a machine whose broker may be restarted (it stops the local
 * RabbitMQ application for 3 s mid-stream, which would disturb anything else using it, so
 * it is not part of `npm test`):
 *
 *   npx tsx bench/bus/broker-restart.ts [--messages 4000]
 *
 * Publishes through MessageBus over the RabbitMQ adapter while consuming, restarts the
 * broker after a third of the messages, and prints one JSON line; exits 1 if any
 * confirmed message was not consumed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MessageBus, createRabbitTransport } from '@relais/bus';
import { createEnvelope } from '@relais/domain';
import { createLogger } from '@relais/telemetry';

const flag = process.argv.indexOf('--messages');
const messages = flag >= 0 ? Number(process.argv[flag + 1]) : 4_000;
const url = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const logger = createLogger({ service: 'broker-restart', level: 'warn' });
const namespace = `restart_${randomBytes(3).toString('hex')}`;
const queue = `${namespace}.events`;
const tenantId = '6f1c2e1a-1b2c-4d3e-8f40-5a6b7c8d9e0f';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function restartBroker(): void {
  execFileSync('rabbitmqctl', ['-q', 'stop_app']);
  setTimeout(() => execFileSync('rabbitmqctl', ['-q', 'start_app']), 3_000);
}

const transport = await createRabbitTransport({ url, logger, publishTimeoutMs: 60_000 });
const bus = new MessageBus({ transport, logger, namespace });
await bus.declare([{ name: queue, bindings: [{ exchange: 'events', routingKey: 'delivery.#' }] }]);

const consumed = new Set<string>();
await bus.subscribe(
  queue,
  {
    'delivery.delivered': async (envelope) => {
      consumed.add(envelope.id);
    },
  },
  { prefetch: 64 },
);

const confirmed: string[] = [];
let publishRetries = 0;
for (let index = 0; index < messages; index += 1) {
  const envelope = createEnvelope({
    type: 'delivery.delivered',
    tenantId,
    data: {
      messageId: '0d1e2f30-4152-4637-8899-aabbccddeeff',
      recipientDomain: 'example.org',
      pool: 'shared',
      attempt: 1,
    },
  });
  if (index === Math.floor(messages / 3)) setTimeout(restartBroker, 0);
  // A publish whose confirm was lost with the connection rejects: publish it again
  // (the consumer dedupes by envelope id).
  for (;;) {
    try {
      await bus.publish(envelope);
      confirmed.push(envelope.id);
      break;
    } catch {
      publishRetries += 1;
      await sleep(200);
    }
  }
}

const deadline = Date.now() + 60_000;
while (Date.now() < deadline && confirmed.some((id) => !consumed.has(id))) await sleep(500);
const lost = confirmed.filter((id) => !consumed.has(id)).length;
console.log(
  JSON.stringify({ confirmed: confirmed.length, consumed: consumed.size, lost, publishRetries }),
);
await bus.close();
process.exit(lost === 0 ? 0 : 1);
