import { describe, expect, it } from 'vitest';
import { relayConfigSchema, relaySettingsSchema } from './config';

describe('relay settings', () => {
  it('defaults to the default pool, no static routes and human timeouts in ms', () => {
    const settings = relaySettingsSchema.parse({});
    expect(settings).toMatchObject({
      pools: ['default'],
      routes: [],
      mxPort: 25,
      maxConnectionsPerDestination: 5,
      connectionTimeout: 30_000,
      socketTimeout: 120_000,
    });
  });

  it('lowercases route patterns and rejects a pattern that is not a domain', () => {
    const parsed = relaySettingsSchema.parse({
      routes: [{ pattern: '*.Example.TEST', host: 'mx', port: 2525 }],
    });
    expect(parsed.routes[0]?.pattern).toBe('*.example.test');
    expect(
      relaySettingsSchema.safeParse({ routes: [{ pattern: 'gmail', host: 'mx' }] }).success,
    ).toBe(false);
  });

  it('builds a standalone process config on the kernel fields', () => {
    const config = relayConfigSchema.parse({ pools: ['eu-1'], idleTimeout: '1m' });
    expect(config).toMatchObject({ pools: ['eu-1'], idleTimeout: 60_000, namespace: 'relais' });
  });

  it('parses IP pools with weights and warm-up ramps, days as UTC midnights', () => {
    const parsed = relaySettingsSchema.parse({
      ipPools: {
        warm: {
          sources: [
            { address: '127.0.0.1', ehlo: 'MTA1.example.com' },
            {
              address: '127.0.0.2',
              ehlo: 'mta2.example.com',
              weight: 3,
              warmup: { start: '2026-11-01', firstDayCap: 50, warmCap: 10_000 },
            },
          ],
        },
      },
    });
    expect(parsed.ipPools['warm']?.sources).toEqual([
      { address: '127.0.0.1', ehlo: 'mta1.example.com', weight: 1 },
      {
        address: '127.0.0.2',
        ehlo: 'mta2.example.com',
        weight: 3,
        warmup: { start: Date.UTC(2026, 10, 1), firstDayCap: 50, growthFactor: 2, warmCap: 10_000 },
      },
    ]);
    const twice = { address: '127.0.0.1', ehlo: 'mta1.example.com' };
    expect(
      relaySettingsSchema.safeParse({ ipPools: { a: { sources: [twice, twice] } } }).success,
    ).toBe(false);
    expect(
      relaySettingsSchema.safeParse({
        ipPools: {
          a: { sources: [{ ...twice, warmup: { start: '2026-13-45', dailyCaps: [5] } }] },
        },
      }).success,
    ).toBe(false);
  });
});
