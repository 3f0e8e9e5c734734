import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnTs } from '@relais/testing';

// `npm start -- --recipients 2000 --exit --json` is `relais demo` with those flags: the
// delivery path end to end in one embedded process, against the provider simulator.

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('relais demo (embedded)', () => {
  it('delivers a 2,000-recipient campaign; totals add up, accepted = delivered, DKIM passes', async () => {
    const run = spawnTs(entry, {
      args: ['demo', '--recipients', '2000', '--exit', '--json'],
      env: { AMQP_URL: undefined, DATABASE_URL: undefined, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' },
      killAfterMs: 240_000,
    });
    const { code, stderr } = await run.exited;
    expect(stderr).toContain('every recipient is final');
    // The dashboard's URL, the tenant's key in the fragment (never sent to the server).
    expect(stderr).toMatch(/watch it live at http:\/\/127\.0\.0\.1:\d+\/dashboard#key=rls_\w+/);
    expect(code).toBe(0);
    const summary = JSON.parse(run.lines.filter((line) => line.trim() !== '').at(-1) ?? '{}');
    expect(summary.recipients).toBe(2000);
    expect(summary.delivered + summary.bounced + summary.failed + summary.suppressed).toBe(2000);
    expect(summary.simulatorAccepted).toBe(summary.delivered);
    expect(summary.dkimBothPassed).toBe(summary.simulatorAccepted);
    // The seeded audience guarantees each kind of outcome: unknown users bounce, opted-out
    // and listed addresses are excluded, greylisting defers before delivering.
    expect(summary.delivered).toBeGreaterThan(1800);
    expect(summary.bounced).toBeGreaterThan(0);
    expect(summary.suppressed).toBe(20 + 13);
    expect(summary.deferrals).toBeGreaterThan(0);
    expect(summary.checks).toEqual({
      totalsAddUp: true,
      acceptedIsDelivered: true,
      everyAcceptedDkimPassed: true,
    });
  }, 300_000);
});
