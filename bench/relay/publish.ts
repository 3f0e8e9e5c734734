import { randomUUID } from 'node:crypto';
import { MessageBus, createRabbitTransport } from '@relais/bus';
import { createEnvelope } from '@relais/domain';
import { createLogger } from '@relais/telemetry';

/** A bus client of the bench's own, on the relay's namespace. */
export async function openBus(amqpUrl: string, namespace: string): Promise<MessageBus> {
  const logger = createLogger({ service: 'bench-relay', level: 'warn' });
  return new MessageBus({
    transport: await createRabbitTransport({ url: amqpUrl, logger, connectionName: 'bench' }),
    logger,
    namespace,
  });
}

/** A rendered ~2 KB newsletter, base64 as `outbound.send` carries it; one copy for all. */
export function bulkRawBase64(to: string): string {
  return Buffer.from(
    `From: <news@mail.bench.test>\r\nTo: <${to}>\r\nSubject: bulk\r\n\r\n` +
      `${'bulk mail line of a newsletter, repeated to about two kilobytes.\r\n'.repeat(30)}`,
  ).toString('base64');
}

// Envelopes built per batch only: 100,000 at once would hold every serialized copy at once.
const BATCH = 1000;

/**
 * Publishes `count` marketing `outbound.send` envelopes straight onto the relay's queues, as
 * the dispatcher would after rendering, in batches each awaited until the broker confirmed
 * it (the transport pipelines the confirms inside a batch). `onFirstBatch` runs once the
 * first batch is on the bus, so a measurement can start while the rest is published.
 */
export async function publishOutbound(
  bus: MessageBus,
  options: {
    tenantId: string;
    count: number;
    rcptTo: (index: number) => string;
    rawBase64: string;
    onFirstBatch?: () => void;
  },
): Promise<void> {
  const firstAttemptAt = new Date().toISOString();
  for (let sent = 0; sent < options.count; sent += BATCH) {
    const size = Math.min(BATCH, options.count - sent);
    await bus.publishMany(
      Array.from({ length: size }, (_, offset) =>
        createEnvelope({
          type: 'outbound.send',
          tenantId: options.tenantId,
          data: {
            messageId: randomUUID(),
            messageClass: 'marketing',
            pool: 'default',
            mailFrom: 'bounces@bounces.bench.test',
            rcptTo: options.rcptTo(sent + offset),
            rawBase64: options.rawBase64,
            firstAttemptAt,
            attempt: 1,
          },
        }),
      ),
    );
    if (sent === 0) options.onFirstBatch?.();
  }
}
