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
});
