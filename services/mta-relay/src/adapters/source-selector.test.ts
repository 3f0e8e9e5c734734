import { describe, expect, it } from 'vitest';
import type { IpSource } from '../domain/ip-sources';
import { createSourceSelector } from './source-selector';

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);

const warming: IpSource = {
  address: '192.0.2.1',
  ehlo: 'mta1.example',
  weight: 1,
  warmup: { startMs: START, dailyCaps: [3, 6] },
};
const warm: IpSource = { address: '192.0.2.2', ehlo: 'mta2.example', weight: 2 };

function clock(startMs: number) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => void (nowMs += ms) };
}

describe('createSourceSelector', () => {
  it('uses the OS default for a pool without sources', () => {
    const selector = createSourceSelector({ pools: new Map([['bulk', []]]) });
    expect(selector.pick('bulk')).toEqual({ kind: 'source', source: undefined });
    expect(selector.pick('other')).toEqual({ kind: 'source', source: undefined });
    expect(selector.cappedUntil('bulk')).toBeUndefined();
  });

  it('caps a warming source per UTC day and opens it again at midnight', () => {
    const time = clock(START + 23 * 3_600_000);
    const selector = createSourceSelector({
      pools: new Map([['fresh', [warming]]]),
      sentToday: new Map([['192.0.2.1', 1]]),
      now: time.now,
    });
    expect(selector.pick('fresh')).toMatchObject({ source: { address: '192.0.2.1' } });
    expect(selector.pick('fresh')).toMatchObject({ kind: 'source' });
    expect(selector.cappedUntil('fresh')).toBe(START + DAY);
    expect(selector.pick('fresh')).toEqual({ kind: 'capped', retryAtMs: START + DAY });

    time.advance(3_600_000);
    const picked = Array.from({ length: 8 }, () => selector.pick('fresh').kind);
    expect(picked.filter((kind) => kind === 'source')).toHaveLength(6);
    expect(selector.snapshot()).toEqual([
      { pool: 'fresh', address: '192.0.2.1', ehlo: 'mta1.example', sentToday: 6, capToday: 6 },
    ]);
    // Only this run's sends are to be added to the store, by day.
    expect(selector.takeUnsaved()).toEqual([
      { source: '192.0.2.1', day: START / DAY, sent: 2 },
      { source: '192.0.2.1', day: START / DAY + 1, sent: 6 },
    ]);
    expect(selector.takeUnsaved()).toEqual([]);
  });

  it('moves to the other sources when one is capped, and keeps counts a flush lost', () => {
    const selector = createSourceSelector({
      pools: new Map([['mixed', [warming, warm]]]),
      now: () => START,
    });
    const addresses = Array.from({ length: 12 }, () => {
      const picked = selector.pick('mixed');
      return picked.kind === 'source' ? picked.source?.address : undefined;
    });
    expect(addresses.filter((address) => address === '192.0.2.1')).toHaveLength(3);
    expect(addresses.filter((address) => address === '192.0.2.2')).toHaveLength(9);
    const unsaved = selector.takeUnsaved();
    selector.restoreUnsaved(unsaved);
    selector.pick('mixed');
    const bySource = selector.takeUnsaved().sort((a, b) => a.source.localeCompare(b.source));
    expect(bySource).toEqual([
      { source: '192.0.2.1', day: START / DAY, sent: 3 },
      { source: '192.0.2.2', day: START / DAY, sent: 10 },
    ]);
  });
});
