import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { ConsumerChannel } from './consumer-channel';

/** A channel that records the acks and nacks it is asked to send. */
function recordingChannel() {
  const frames: string[] = [];
  const channel = {
    ack: (message: Message, multiple: boolean) =>
      frames.push(`${multiple ? 'ack-upto' : 'ack'} ${message.fields.deliveryTag}`),
    nack: (message: Message) => frames.push(`nack ${message.fields.deliveryTag}`),
  } as unknown as Channel;
  return { channel, frames };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const message = (deliveryTag: number) => ({ fields: { deliveryTag } }) as unknown as Message;

describe('ConsumerChannel acknowledgements', () => {
  it('coalesces a settled prefix into one multiple ack, and acks singly past a gap', async () => {
    const { channel, frames } = recordingChannel();
    const consumer = new ConsumerChannel(channel);
    for (let tag = 1; tag <= 6; tag += 1) consumer.received(tag);

    consumer.ack(2);
    consumer.ack(3);
    await turn();
    // 1 is still being handled: 2 and 3 cannot ride a multiple ack.
    expect(frames).toEqual(['ack 2', 'ack 3']);

    consumer.ack(1);
    consumer.ack(4);
    await turn();
    // The prefix 1..4 is settled; 2 and 3 were already acked, `multiple` skips them.
    expect(frames.slice(2)).toEqual(['ack-upto 4']);

    consumer.requeue(message(5));
    consumer.ack(6);
    await turn();
    expect(frames.slice(3)).toEqual(['nack 5', 'ack-upto 6']);
  });

  it('acks each message behind a long-held one exactly once, however many turns pass', async () => {
    const { channel, frames } = recordingChannel();
    const consumer = new ConsumerChannel(channel);
    const count = 2_000;
    for (let tag = 1; tag <= count; tag += 1) consumer.received(tag);
    // Tag 1 is held (a slow destination) while the others settle over many turns.
    for (let tag = 2; tag <= count; tag += 1) {
      consumer.ack(tag);
      if (tag % 50 === 0) await turn();
    }
    await turn();
    expect(frames).toHaveLength(count - 1);
    expect(new Set(frames).size).toBe(count - 1);
    consumer.ack(1);
    await turn();
    // Everything behind it was acked already: only tag 1 itself is left to ack.
    expect(frames.at(-1)).toBe('ack-upto 1');
    expect(frames).toHaveLength(count);
  });
});
