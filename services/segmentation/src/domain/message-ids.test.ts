import { describe, expect, it } from 'vitest';
import { MessageIdSchema } from '@relais/domain';
import { messageIdOf, messageIdPrefix } from './message-ids';

const random = Uint8Array.from([0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa]);

describe('messageIdPrefix', () => {
  it('builds UUIDv7 ids carrying the millisecond timestamp', () => {
    const at = new Date('2026-06-01T12:00:00.123Z');
    const id = messageIdOf(messageIdPrefix(at, random), 1);
    expect(MessageIdSchema.safeParse(id).success).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at.getTime());
  });

  it('keeps the random bits apart from version and variant', () => {
    const prefix = messageIdPrefix(new Date(0), random);
    expect(prefix).toBe('000000000000' + '7fee' + '9dcc' + 'bbaa');
  });

  it('orders ids of one resolution by their counter', () => {
    const prefix = messageIdPrefix(new Date(), random);
    const ids = [0, 1, 9, 10, 255, 65_536, 2 ** 32 - 1].map((n) => messageIdOf(prefix, n));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('orders ids of a later millisecond after every id of an earlier one', () => {
    const early = messageIdOf(messageIdPrefix(new Date(1_000), random), 2 ** 32 - 1);
    const late = messageIdOf(messageIdPrefix(new Date(1_001), new Uint8Array(6)), 0);
    expect(early < late).toBe(true);
  });
});
