import { fileURLToPath } from 'node:url';
import { logCodesUsedIn } from '@relais/testing';
import { describe, expect, it } from 'vitest';
import { STORE_LOG_EVENTS } from './log-events';

describe('store log events', () => {
  it('lists every event.action code the store writes', () => {
    const used = logCodesUsedIn(fileURLToPath(new URL('.', import.meta.url)));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((code) => !(code in STORE_LOG_EVENTS))).toEqual([]);
  });
});
