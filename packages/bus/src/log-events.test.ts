import { fileURLToPath } from 'node:url';
import { logCodesUsedIn } from '@relais/testing';
import { describe, expect, it } from 'vitest';
import { BUS_LOG_EVENTS } from './log-events';

describe('bus log events', () => {
  it('lists every event.action code the bus writes', () => {
    const used = logCodesUsedIn(fileURLToPath(new URL('.', import.meta.url)));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((code) => !(code in BUS_LOG_EVENTS))).toEqual([]);
  });
});
