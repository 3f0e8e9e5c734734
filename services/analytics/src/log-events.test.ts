import { fileURLToPath } from 'node:url';
import { logCodesUsedIn } from '@relais/testing';
import { describe, expect, it } from 'vitest';
import { ANALYTICS_LOG_EVENTS } from './log-events';

describe('analytics log events', () => {
  it('lists every event.action code the service writes, and only those', () => {
    const used = logCodesUsedIn(fileURLToPath(new URL('.', import.meta.url)));
    // Written by the @relais/http-api error handler, which api.ts hands this code to.
    used.add('analytics.request.failed');
    expect([...used].sort()).toEqual(Object.keys(ANALYTICS_LOG_EVENTS).sort());
  });
});
