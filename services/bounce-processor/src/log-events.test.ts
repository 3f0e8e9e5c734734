import { fileURLToPath } from 'node:url';
import { logCodesUsedIn } from '@relais/testing';
import { describe, expect, it } from 'vitest';
import { BOUNCE_LOG_EVENTS } from './log-events';

describe('bounce-processor log events', () => {
  it('lists every event.action code the service writes, and only those', () => {
    const used = logCodesUsedIn(fileURLToPath(new URL('.', import.meta.url)));
    expect([...used].sort()).toEqual(Object.keys(BOUNCE_LOG_EVENTS).sort());
  });
});
