import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { createTenant } from '@relais/campaign';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import type { AcceptedMessage, ProviderProfileInput } from '@relais/simulator';
import { startServicesWithSimulator } from '../src/commands/embedded-simulator';
import { platformConfigSchema, prepareServices } from '../src/commands/services';

// Item 7 of issue 5 end to end, embedded: another service submits over SMTP (STARTTLS, AUTH
// with an API key) to the dispatcher's loopback listener that `relais up` runs; the relay
// delivers to the provider simulator, which checks both DKIM signatures.

const PROFILE: ProviderProfileInput = { name: 'inbox', domains: ['inbox.test'], latencyMs: 1 };

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('transactional submission over SMTP, end to end (embedded)', () => {
  let dir: string;
  let platform: Platform;
  let smtpPort: number;
  let key: string;
  const accepted: AcceptedMessage[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-submission-'));
    const profiles = join(dir, 'profiles.json');
    await writeFile(profiles, JSON.stringify({ seed: 7, providers: [PROFILE] }));
    const config = loadConfig(platformConfigSchema(), {
      env: {
        DATA_DIR: 'memory://',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        // A free port, whatever else runs on this machine.
        DISPATCHER__SUBMISSION__SMTP__PORT: '0',
        DISPATCHER__SUBMISSION__HTTP__PORT: '0',
        DISPATCHER__SUBMISSION__GRPC__PORT: '0',
      },
      argv: [],
    });
    platform = await startPlatform('relais-submission-test', config);
    const { embedded, services } = await startServicesWithSimulator(
      platform,
      config,
      prepareServices(config),
      { routesOnly: true, profiles },
    );
    embedded.simulator.subscribe((event) => {
      if (event.type === 'message.accepted') accepted.push(event.message);
    });
    smtpPort = services.dispatcher!.submission!.smtpPort!;
    await platform.runtime.start();
    key = (await createTenant(platform.store, 'submitter')).apiKey.key;
  }, 30_000);

  afterAll(async () => {
    await platform.runtime.stop('test finished');
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers a message submitted over STARTTLS + AUTH to each recipient, DKIM-signed', async () => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      requireTLS: true,
      // Embedded mode generates its certificate: nothing can verify it.
      tls: { rejectUnauthorized: false },
      auth: { user: 'billing', pass: key },
    });
    const info = await transport.sendMail({
      from: 'Billing <billing@mail.relais.test>',
      to: ['ana@inbox.test', 'bo@inbox.test'],
      subject: 'Invoice 42',
      text: 'Your invoice is attached.',
    });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 OK queued as /);

    await waitFor(() => accepted.length >= 2);
    expect(accepted.flatMap((message) => message.recipients).sort()).toEqual([
      'ana@inbox.test',
      'bo@inbox.test',
    ]);
    for (const message of accepted) {
      expect(message.dkim.map((check) => check.result)).toEqual(['pass', 'pass']);
      expect(message.raw.toString('latin1')).toContain('Subject: Invoice 42');
    }
    // The relay's outcome reaches the rows through analytics.
    await waitFor(async () => {
      const { rows } = await platform.store.query<{ state: string }>(
        `SELECT state FROM messages WHERE submission_id IS NOT NULL`,
      );
      return rows.length === 2 && rows.every((row) => row.state === 'delivered');
    });
  });
});
