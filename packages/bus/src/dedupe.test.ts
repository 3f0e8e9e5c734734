import { describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from './dedupe';

describe('memory dedupe store', () => {
  it('remembers ids per consumer', async () => {
    const store = createMemoryDedupeStore();
    await store.add('analytics', 'e1');
    expect(await store.has('analytics', 'e1')).toBe(true);
    expect(await store.has('bounce', 'e1')).toBe(false);
    expect(await store.has('analytics', 'e2')).toBe(false);
  });

  it('remembers at least the last maxEntries ids and forgets older ones', async () => {
    const store = createMemoryDedupeStore(3);
    for (const id of ['a', 'b', 'c', 'd']) await store.add('c', id);
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.has('c', id)).toBe(true);
    for (const id of ['e', 'f', 'g']) await store.add('c', id);
    for (const id of ['a', 'b', 'c']) expect(await store.has('c', id)).toBe(false);
    for (const id of ['d', 'e', 'f', 'g']) expect(await store.has('c', id)).toBe(true);
  });

  it('does not grow when the same id is added twice', async () => {
    const store = createMemoryDedupeStore(2);
    await store.add('c', 'a');
    await store.add('c', 'a');
    await store.add('c', 'b');
    expect(await store.has('c', 'a')).toBe(true);
    expect(await store.has('c', 'b')).toBe(true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => createMemoryDedupeStore(0)).toThrow(RangeError);
  });
});
