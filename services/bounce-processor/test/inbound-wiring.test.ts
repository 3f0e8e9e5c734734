import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verpAddress } from '@relais/mail';
import { startPlatform, type Platform } from '@relais/platform';
import { uniqueName } from '@relais/testing';
import { bounceConfigSchema, startBounceProcessor } from '../src/index';
import { seedMessage, seedTenant } from './fixtures';
import { greeted } from './smtp-client';

const SECRET = 'a-verp-secret-of-at-least-32-characters!';

// The listener as startBounceProcessor runs it: from the process configuration, on the
// platform's store, stopped with the platform.
describe('startBounceProcessor with inbound.enabled (embedded platform)', () => {
  let platform: Platform;
  let port: number | undefined;

  beforeAll(async () => {
    const config = bounceConfigSchema.parse({
      dataDir: 'memory://',
      httpPort: 0,
      logLevel: 'silent',
      namespace: uniqueName('bounce').replace(/_/g, '-'),
      bounceSecret: SECRET,
      inbound: { enabled: true, host: '127.0.0.1', port: 0, domains: ['bounces.example.com'] },
    });
    platform = await startPlatform('bounce-processor-test', config);
    ({ inboundPort: port } = await startBounceProcessor(platform, config));
  });
  afterAll(async () => {
    await platform?.runtime.stop('test');
  });

  it('stores a VERP bounce in inbound_reports, and stops listening with the platform', async () => {
    expect(port).toBeGreaterThan(0);
    const tenantId = await seedTenant(platform.store);
    const { messageId } = await seedMessage(platform.store, tenantId, 'gone@example.org');
    const rcpt = verpAddress({ messageId, bounceDomain: 'bounces.example.com', secret: SECRET });
    const { smtp } = await greeted(port!);
    expect(await smtp.command('MAIL FROM:<>')).toMatch(/^250/);
    expect(await smtp.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250/);
    expect(await smtp.command('DATA')).toMatch(/^354/);
    smtp.write('Subject: bounce\r\n\r\nno such user\r\n.\r\n');
    expect(await smtp.reply()).toMatch(/^250/);
    await smtp.command('QUIT');

    const { rows } = await platform.store.query<{ tenant_id: string; message_id: string }>(
      `SELECT tenant_id, message_id FROM inbound_reports WHERE rcpt_to = $1`,
      [rcpt],
    );
    expect(rows).toEqual([{ tenant_id: tenantId, message_id: messageId }]);

    await platform.runtime.stop('test');
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: port! });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
