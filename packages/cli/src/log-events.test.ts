import { fileURLToPath } from 'node:url';
import { logCodesUsedIn } from '@relais/testing';
import { describe, expect, it } from 'vitest';
import { CLI_LOG_EVENTS } from './log-events';

describe('relais command log events', () => {
  it('lists every event.action code the command writes', () => {
    const used = logCodesUsedIn(fileURLToPath(new URL('.', import.meta.url)));
    expect(used.size).toBeGreaterThan(1);
    expect([...used].filter((code) => !(code in CLI_LOG_EVENTS))).toEqual([]);
  });
});
