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

  it('evicts the least recently used id beyond its capacity', async () => {
    const store = createMemoryDedupeStore(3);
    await store.add('c', 'a');
    await store.add('c', 'b');
    await store.add('c', 'c');
    expect(await store.has('c', 'a')).toBe(true); // touching `a` makes `b` the oldest
    await store.add('c', 'd');
    expect(await store.has('c', 'b')).toBe(false);
    expect(await store.has('c', 'a')).toBe(true);
    expect(await store.has('c', 'c')).toBe(true);
    expect(await store.has('c', 'd')).toBe(true);
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
