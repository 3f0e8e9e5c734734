import { describe, expect, it } from 'vitest';
import { bounceConfigSchema, bounceSettingsSchema } from './config';

const SECRET = 'a-verp-secret-of-at-least-32-characters!';

describe('bounce-processor config', () => {
  it('defaults the prefetch, leaves the inbound listener off and serves HTTP on 8084 when run alone', () => {
    const settings = bounceSettingsSchema.parse({});
    expect(settings.prefetch).toBe(8);
    expect(settings.inbound).toMatchObject({
      enabled: false,
      port: 2525,
      domains: [],
      maxMessageBytes: 10 * 1024 * 1024,
      maxReceivedHeaders: 50,
    });
    expect(bounceConfigSchema.parse({})).toMatchObject({ httpPort: 8084, prefetch: 8 });
  });

  it('refuses a prefetch outside 1..64', () => {
    expect(bounceSettingsSchema.safeParse({ prefetch: 0 }).success).toBe(false);
    expect(bounceSettingsSchema.safeParse({ prefetch: 65 }).success).toBe(false);
  });

  it('needs the bounce secret and a domain once the inbound listener is enabled', () => {
    const enabled = { inbound: { enabled: true, domains: ['Bounces.Example.com'] } };
    expect(bounceSettingsSchema.safeParse(enabled).success).toBe(false);
    expect(bounceConfigSchema.safeParse(enabled).success).toBe(false);
    expect(
      bounceSettingsSchema.safeParse({ bounceSecret: SECRET, inbound: { enabled: true } }).success,
    ).toBe(false);
    expect(bounceSettingsSchema.safeParse({ ...enabled, bounceSecret: 'short' }).success).toBe(
      false,
    );
    const parsed = bounceSettingsSchema.parse({ ...enabled, bounceSecret: SECRET });
    expect(parsed.inbound.domains).toEqual(['bounces.example.com']);
  });
});
