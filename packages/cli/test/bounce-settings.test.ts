import { describe, expect, it } from 'vitest';
import { loadConfig } from '@relais/config';
import {
  bounceSettingsOf,
  dispatcherSettingsOf,
  loopbackInbound,
  platformConfigSchema,
} from '../src/commands/services';

const SECRET = 'b'.repeat(40);
const load = (env: Record<string, string>) =>
  loadConfig(platformConfigSchema(), { env: { DATA_DIR: 'memory://', ...env }, argv: [] });

describe('the bounce processor’s settings in a relais process', () => {
  it('takes the dispatcher’s bounce secret and domain for the inbound listener', () => {
    const config = load({
      BOUNCES__INBOUND__ENABLED: 'true',
      DISPATCHER__BOUNCE_SECRET: SECRET,
      DISPATCHER__BOUNCE_DOMAIN: 'Bounces.Example.com',
    });
    expect(bounceSettingsOf(config)).toMatchObject({
      bounceSecret: SECRET,
      inbound: { enabled: true, domains: ['bounces.example.com'] },
    });
  });

  it('lets BOUNCES__ settings override the dispatcher’s', () => {
    const config = load({
      BOUNCES__INBOUND__ENABLED: 'true',
      BOUNCES__BOUNCE_SECRET: 'c'.repeat(40),
      BOUNCES__INBOUND__DOMAINS: '["mx.example.net"]',
      DISPATCHER__BOUNCE_SECRET: SECRET,
      DISPATCHER__BOUNCE_DOMAIN: 'bounces.example.com',
      BOUNCES__SOFT_BOUNCES__THRESHOLD: '5',
      BOUNCES__SOFT_BOUNCES__WINDOW: '14d',
    });
    expect(bounceSettingsOf(config)).toMatchObject({
      bounceSecret: 'c'.repeat(40),
      inbound: { domains: ['mx.example.net'] },
      softBounces: { threshold: 5, window: 14 * 86_400_000 },
    });
  });

  it('refuses an enabled listener with no secret anywhere, naming the setting', () => {
    expect(() => load({ BOUNCES__INBOUND__ENABLED: 'true' })).toThrow(/bounces\.bounceSecret/);
  });

  it('puts the embedded listener on loopback at a free port, feedback at fbl@<bounce domain>', () => {
    const config = load({});
    const { settings } = dispatcherSettingsOf(config);
    expect(loopbackInbound(config, settings)).toMatchObject({
      bounceSecret: settings.bounceSecret,
      inbound: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        domains: ['bounces.relais.test'],
        feedbackAddress: 'fbl@bounces.relais.test',
      },
    });
  });
});
