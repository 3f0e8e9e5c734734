import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_BYTES = 16 * 1024;
/** rand_a (12 bits) is the counter that orders ids of one millisecond (RFC 9562 §6.2). */
const MAX_COUNTER = 0xfff;

/**
 * Returns a generator of UUIDv7 (RFC 9562 §5.7) strings, strictly increasing for this
 * generator: ids of one millisecond take the next counter value, and a full counter borrows
 * the next millisecond. Imported contacts get their ids here so consecutive inserts land at
 * the right edge of the primary key index instead of on random pages; 62 random bits keep
 * ids from concurrent imports apart.
 */
export function uuid7Generator(now: () => number = Date.now): () => string {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  let offset = POOL_BYTES;
  let lastMs = -1;
  let counter = 0;

  return () => {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter > MAX_COUNTER) {
        ms++;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    lastMs = ms;
    if (offset + 8 > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const high = Math.floor(ms / 2 ** 16);
    const low = ms % 2 ** 16;
    const r = offset;
    offset += 8;
    return (
      high.toString(16).padStart(8, '0') +
      '-' +
      low.toString(16).padStart(4, '0') +
      '-7' +
      (counter >> 8).toString(16) +
      HEX[counter & 0xff]! +
      '-' +
      HEX[0x80 | (pool[r]! & 0x3f)]! +
      HEX[pool[r + 1]!]! +
      '-' +
      HEX[pool[r + 2]!]! +
      HEX[pool[r + 3]!]! +
      HEX[pool[r + 4]!]! +
      HEX[pool[r + 5]!]! +
      HEX[pool[r + 6]!]! +
      HEX[pool[r + 7]!]!
    );
  };
}
