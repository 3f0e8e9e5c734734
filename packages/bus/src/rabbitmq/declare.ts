import type { Channel, ChannelModel } from 'amqplib';
import { RelaisError } from '@relais/domain';
import type { QueueSpec, Topology } from '../topology';

/** The queue arguments RabbitMQ gets for a QueueSpec: always a quorum queue. */
export function queueArguments(spec: QueueSpec): Record<string, string | number> {
  const args: Record<string, string | number> = { 'x-queue-type': 'quorum' };
  if (spec.messageTtlMs !== undefined) args['x-message-ttl'] = spec.messageTtlMs;
  if (spec.deadLetterExchange !== undefined)
    args['x-dead-letter-exchange'] = spec.deadLetterExchange;
  if (spec.deadLetterRoutingKey !== undefined)
    args['x-dead-letter-routing-key'] = spec.deadLetterRoutingKey;
  if (spec.deliveryLimit !== undefined) args['x-delivery-limit'] = spec.deliveryLimit;
  if (spec.messageTtlMs !== undefined && spec.deadLetterExchange !== undefined) {
    // A delay queue's whole job is to hand the message back: the default at-most-once
    // dead-lettering would drop a retry if the target refused it. At-least-once requires
    // reject-publish overflow (RabbitMQ ≥ 3.10), otherwise the broker silently falls back.
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return args;
}

/**
 * Declares a topology on a throwaway channel: a refused declaration (406, arguments that
 * differ from an existing queue) closes its channel, which must not be the publisher's.
 */
export async function declareTopology(connection: ChannelModel, topology: Topology): Promise<void> {
  const channel: Channel = await connection.createChannel();
  let channelError: string | undefined;
  channel.on('error', (error: unknown) => {
    channelError = error instanceof Error ? error.message : String(error);
  });
  let step = '';
  try {
    for (const exchange of topology.exchanges) {
      step = `exchange ${exchange.name}`;
      await channel.assertExchange(exchange.name, exchange.kind, { durable: true });
    }
    for (const queue of topology.queues) {
      step = `queue ${queue.name}`;
      await channel.assertQueue(queue.name, { durable: true, arguments: queueArguments(queue) });
      for (const binding of queue.bindings) {
        step = `binding ${binding.exchange} -> ${queue.name}`;
        await channel.bindQueue(queue.name, binding.exchange, binding.routingKey);
      }
    }
  } catch (error) {
    const reason = channelError ?? (error instanceof Error ? error.message : String(error));
    // A 406/404 is the broker refusing this topology (it will refuse it again); anything
    // else is the connection going away mid-declaration.
    const refused = /\b(404|406|403)\b/.test(reason);
    throw new RelaisError(
      refused ? 'CONFIG_INVALID' : 'BUS_UNAVAILABLE',
      `declaring ${step} failed: ${reason}`,
      {
        cause: error,
        details: { step },
      },
    );
  } finally {
    await channel.close().catch(() => undefined);
  }
}
