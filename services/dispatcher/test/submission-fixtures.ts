import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { relaisWorkQueues } from '@relais/bus';
import type { Envelope, TenantId } from '@relais/domain';
import { hashApiKeySecret, newApiKeyMaterial } from '@relais/http-api';
import { startPlatform, type Platform } from '@relais/platform';
import type { Store } from '@relais/store';
import {
  createTestSchema,
  createTestVhost,
  probe,
  uniqueName,
  type TestSchema,
  type TestVhost,
} from '@relais/testing';
import { generate } from 'selfsigned';
import { dispatcherConfigSchema, startDispatcher, type DispatcherHandle } from '../src/index';
import { BOUNCE_SECRET, UNSUBSCRIBE_SECRET } from './fixtures';

const rabbit = await probe('rabbitmq');
const postgres = await probe('postgres');

/** The platform a suite runs on, and what to clean up after it stopped. */
export interface Kernel {
  name: string;
  open(): Promise<{ settings: Record<string, unknown>; cleanup(): Promise<void> }>;
}

const pem = (type: 'rsa' | 'ed25519') =>
  (type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ed25519')
  ).privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

/** Embedded (memory bus, PGlite) always; RabbitMQ + PostgreSQL when they answer. */
export const kernels: Kernel[] = [
  {
    name: 'embedded (memory bus, PGlite)',
    open: () => Promise.resolve({ settings: { dataDir: 'memory://' }, cleanup: async () => {} }),
  },
  ...(rabbit.available && postgres.available
    ? [
        {
          name: 'distributed (RabbitMQ, PostgreSQL)',
          open: async () => {
            const vhost: TestVhost = await createTestVhost('relais_submit');
            const schema: TestSchema = await createTestSchema('relais_submit');
            return {
              // Distributed mode refuses generated DKIM keys: give it real ones.
              settings: {
                amqpUrl: vhost.url,
                databaseUrl: schema.url,
                dkim: { rsa: { privateKey: pem('rsa') }, ed25519: { privateKey: pem('ed25519') } },
              },
              cleanup: async () => {
                await vhost.cleanup();
                await schema.cleanup();
              },
            };
          },
        },
      ]
    : []),
];

/** Limits small enough to reach in a test. */
export const LIMITS = { maxMessageBytes: 8192, maxRecipients: 3, burst: 5 };

/** A running dispatcher with its submission transports, and what reached the relay lane. */
export interface SubmissionRig {
  platform: Platform;
  handle: DispatcherHandle;
  smtpPort: number;
  httpPort: number;
  grpcPort: number;
  relayed: Array<Envelope<'outbound.send'>>;
  stop(): Promise<void>;
}

export async function startRig(kernel: Kernel): Promise<SubmissionRig> {
  const opened = await kernel.open();
  const namespace = uniqueName('submit').replace(/_/g, '-');
  const tls = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const config = dispatcherConfigSchema.parse({
    ...opened.settings,
    httpPort: 0,
    logLevel: 'silent',
    namespace,
    sendingDomain: 'sender.test',
    bounceDomain: 'bounces.sender.test',
    bounceSecret: BOUNCE_SECRET,
    unsubscribeBaseUrl: 'https://u.sender.test',
    unsubscribeSecret: UNSUBSCRIBE_SECRET,
    submission: {
      host: '127.0.0.1',
      smtp: {
        port: 0,
        maxMessageBytes: LIMITS.maxMessageBytes,
        maxRecipients: LIMITS.maxRecipients,
        dataTimeout: '5s',
        socketTimeout: '10s',
      },
      http: { port: 0 },
      grpc: { port: 0 },
      tls: { privateKey: tls.private, certificate: tls.cert },
      // Refills far slower than a test runs: a key's sixth message is refused.
      rateLimit: { rate: '1/h', burst: LIMITS.burst },
    },
  });
  const platform = await startPlatform('dispatcher-submission-test', config);
  const handle = await startDispatcher(platform, config);
  await platform.bus.declare(relaisWorkQueues(namespace, handle.pools));
  const relayed: Array<Envelope<'outbound.send'>> = [];
  await platform.bus.subscribe(`${namespace}.relay.default.transactional`, {
    'outbound.send': async (envelope) => void relayed.push(envelope),
  });
  const submission = handle.submission!;
  return {
    platform,
    handle,
    smtpPort: submission.smtpPort!,
    httpPort: submission.httpPort!,
    grpcPort: submission.grpcPort!,
    relayed,
    stop: async () => {
      await platform.runtime.stop('test');
      await opened.cleanup();
    },
  };
}

/** A tenant and one API key of it, as the campaign service would create them. */
export async function tenantWithKey(store: Store): Promise<{ tenantId: TenantId; key: string }> {
  const tenantId = randomUUID() as TenantId;
  await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'submitter')`, [tenantId]);
  const material = newApiKeyMaterial();
  await store.query(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash) VALUES ($1, $2, 'smtp', $3, $4)`,
    [randomUUID(), tenantId, material.prefix, hashApiKeySecret(material.secret)],
  );
  return { tenantId, key: material.key };
}

/** Rows of submitted messages of a tenant. */
export async function submittedRows(store: Store, tenantId: TenantId) {
  const { rows } = await store.query<{
    id: string;
    email: string;
    state: string;
    submission_id: string;
    campaign_id: string | null;
  }>(
    `SELECT id, email, state, submission_id, campaign_id FROM messages WHERE tenant_id = $1 ORDER BY email`,
    [tenantId],
  );
  return rows;
}

/** A raw SMTP client: every byte is the test's, and it can switch to TLS after STARTTLS. */
export interface RawSmtp {
  reply(): Promise<string>;
  command(line: string): Promise<string>;
  write(bytes: string | Buffer): void;
  /** STARTTLS, the TLS handshake (any certificate) and EHLO again; returns the EHLO reply. */
  startTls(): Promise<string>;
  end(): void;
}

export async function rawSmtp(port: number): Promise<RawSmtp> {
  let socket: Socket = connectTcp({ host: '127.0.0.1', port });
  let buffer = '';
  let current: string[] = [];
  const replies: string[] = [];
  const waiting: Array<(reply: string) => void> = [];
  const onData = (data: Buffer) => {
    buffer += data.toString('latin1');
    for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      current.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = current.join('\n');
        current = [];
        const next = waiting.shift();
        if (next) next(reply);
        else replies.push(reply);
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const reply = () =>
    new Promise<string>((resolve, reject) => {
      const queued = replies.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error('no SMTP reply within 10 s')), 10_000);
      waiting.push((text) => {
        clearTimeout(timer);
        resolve(text);
      });
    });
  const command = (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  return {
    reply,
    command,
    write: (bytes) => socket.write(bytes),
    startTls: async () => {
      const ready = await command('STARTTLS');
      if (!ready.startsWith('220')) throw new Error(`STARTTLS refused: ${ready}`);
      socket.off('data', onData);
      const secure = connectTls({ socket, rejectUnauthorized: false, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
      secure.on('data', onData);
      secure.on('error', () => undefined);
      socket = secure;
      return command('EHLO client.example.net');
    },
    end: () => socket.end(),
  };
}

/** Greeted, EHLO, STARTTLS and AUTH PLAIN with `key` done. */
export async function authenticated(port: number, key: string): Promise<RawSmtp> {
  const smtp = await rawSmtp(port);
  await smtp.reply();
  await smtp.command('EHLO client.example.net');
  await smtp.startTls();
  const auth = await smtp.command(`AUTH PLAIN ${plain(key)}`);
  if (!auth.startsWith('235')) throw new Error(`AUTH refused: ${auth}`);
  return smtp;
}

/** The AUTH PLAIN initial response for an API key (the user name is not looked at). */
export const plain = (key: string) => Buffer.from(`\0api\0${key}`).toString('base64');

/** Waits until `check` holds, polling. */
export async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
