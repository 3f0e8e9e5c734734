import { describe, expect, it } from 'vitest';
import { bounceConfigSchema, bounceSettingsSchema } from './config';

describe('bounce-processor config', () => {
  it('defaults the prefetch and serves HTTP on 8084 when run alone', () => {
    expect(bounceSettingsSchema.parse({})).toEqual({ prefetch: 8 });
    expect(bounceConfigSchema.parse({})).toMatchObject({ httpPort: 8084, prefetch: 8 });
  });

  it('refuses a prefetch outside 1..64', () => {
    expect(bounceSettingsSchema.safeParse({ prefetch: 0 }).success).toBe(false);
    expect(bounceSettingsSchema.safeParse({ prefetch: 65 }).success).toBe(false);
  });
});
