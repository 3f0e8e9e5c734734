import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import type { TenantId } from '@relais/domain';
import { createDkimKeyStore } from '@relais/simulator';
import { submissionServiceClient } from '../src/index';
import {
  kernels,
  LIMITS,
  startRig,
  submittedRows,
  tenantWithKey,
  waitFor,
  type SubmissionRig,
} from './submission-fixtures';

describe.each(kernels)('HTTP and gRPC submission on the $name platform', (kernel) => {
  let rig: SubmissionRig;
  beforeAll(async () => {
    rig = await startRig(kernel);
  });
  afterAll(() => rig.stop());

  const relayedFor = (tenantId: TenantId) =>
    rig.relayed.filter((envelope) => envelope.tenantId === tenantId);

  async function post(key: string | undefined, request: unknown) {
    const response = await fetch(`http://127.0.0.1:${rig.httpPort}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      },
      body: JSON.stringify(request),
    });
    const body: any = await response.json();
    return { status: response.status, headers: response.headers, body };
  }

  async function dkimOf(tenantId: TenantId): Promise<string[]> {
    const keys = createDkimKeyStore(rig.handle.dkimPublicKeys);
    const results: string[] = [];
    for (const envelope of relayedFor(tenantId)) {
      const raw = Buffer.from(envelope.data.rawBase64, 'base64');
      const verdict = await dkimVerify(raw, { resolver: keys.resolver });
      results.push(...verdict.results.map((result) => result.status.result));
    }
    return results;
  }

  it('POST /v1/messages answers 202 once every copy is published, and replays an idempotency key', async () => {
    const { tenantId, key } = await tenantWithKey(rig.platform.store);
    const body = {
      from: { address: 'shop@sender.test', name: 'Shop' },
      to: ['ana@example.test', 'bo@example.test'],
      subject: 'Your receipt',
      text: 'Thank you.',
      tags: ['receipts'],
      idempotencyKey: 'order-42',
    };
    const first = await post(key, body);
    expect(first.status).toBe(202);
    expect(first.body.replayed).toBe(false);
    expect(first.body.messages.map((m: { to: string }) => m.to)).toEqual([
      'ana@example.test',
      'bo@example.test',
    ]);
    await waitFor(() => relayedFor(tenantId).length === 2);
    expect(await dkimOf(tenantId)).toEqual(['pass', 'pass', 'pass', 'pass']);
    const raw = Buffer.from(relayedFor(tenantId)[0]!.data.rawBase64, 'base64').toString();
    expect(raw).toMatch(
      new RegExp(`^Feedback-ID: receipts:${tenantId}:transactional:relais$`, 'm'),
    );

    const again = await post(key, body);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    const rows = await submittedRows(rig.platform.store, tenantId);
    expect(rows.map((row) => row.submission_id)).toEqual([
      first.body.submissionId,
      first.body.submissionId,
    ]);
  });

  it('POST /v1/messages also takes the key from an Idempotency-Key header', async () => {
    const { key } = await tenantWithKey(rig.platform.store);
    const body = { from: 'shop@sender.test', to: ['a@example.test'], subject: 's', text: 't' };
    const send = () =>
      fetch(`http://127.0.0.1:${rig.httpPort}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          'idempotency-key': 'reset-1',
        },
        body: JSON.stringify(body),
      }).then(async (response) => (await response.json()) as any);
    const first = await send();
    const again = await send();
    expect(again).toEqual({ ...first, replayed: true });
  });

  it('POST /v1/messages takes a whole message in raw', async () => {
    const { tenantId, key } = await tenantWithKey(rig.platform.store);
    const response = await post(key, {
      to: ['ana@example.test'],
      raw: 'From: shop@sender.test\nTo: ana@example.test\nSubject: Raw\n\nHello.\n',
    });
    expect(response.status).toBe(202);
    await waitFor(() => relayedFor(tenantId).length === 1);
    expect(await dkimOf(tenantId)).toEqual(['pass', 'pass']);
    expect(response.body.messages[0].messageIdHeader).toBe(
      `<${response.body.submissionId}@sender.test>`,
    );
  });

  it('POST /v1/messages refuses a missing or bad API key with 401 and an invalid body with 400', async () => {
    expect((await post(undefined, {})).status).toBe(401);
    const bad = await post('rls_aaaaaaaaaaaa_' + 'x'.repeat(43), {});
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('UNAUTHORIZED');
    const { key } = await tenantWithKey(rig.platform.store);
    const invalid = await post(key, { to: ['ana@example.test'], text: 'no from, no subject' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.issues.map((issue: { pointer: string }) => issue.pointer)).toEqual([
      '/from',
      '/subject',
    ]);
  });

  it('POST /v1/messages answers 429 with Retry-After past the key’s rate limit', async () => {
    const { key } = await tenantWithKey(rig.platform.store);
    const body = { from: 'shop@sender.test', to: ['a@example.test'], subject: 's', text: 't' };
    for (let n = 0; n < LIMITS.burst; n += 1) expect((await post(key, body)).status).toBe(202);
    const limited = await post(key, body);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  describe('gRPC Send', () => {
    let client: Client & { Send: (...args: unknown[]) => void };
    beforeAll(() => {
      const Service = submissionServiceClient();
      client = new Service(
        `127.0.0.1:${rig.grpcPort}`,
        credentials.createInsecure(),
      ) as unknown as typeof client;
    });
    afterAll(() => client.close());

    const send = (key: string | undefined, request: unknown) =>
      new Promise<{ error: ServiceError | null; reply: any }>((resolve) => {
        const metadata = new Metadata();
        if (key !== undefined) metadata.set('authorization', `Bearer ${key}`);
        client.Send(request, metadata, (error: ServiceError | null, reply: unknown) =>
          resolve({ error, reply }),
        );
      });

    it('sends, replying once every copy is published', async () => {
      const { tenantId, key } = await tenantWithKey(rig.platform.store);
      const { error, reply } = await send(key, {
        from: { address: 'shop@sender.test' },
        to: ['ana@example.test'],
        subject: 'Password reset',
        html: '<p>Reset</p>',
      });
      expect(error).toBeNull();
      expect(reply.submissionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(reply.messages).toHaveLength(1);
      await waitFor(() => relayedFor(tenantId).length === 1);
      expect(relayedFor(tenantId)[0]!.data.messageId).toBe(reply.messages[0].id);
      expect(await dkimOf(tenantId)).toEqual(['pass', 'pass']);
    });

    it('refuses a missing or bad key with UNAUTHENTICATED and a bad request with INVALID_ARGUMENT', async () => {
      const request = { from: { address: 'shop@sender.test' }, to: ['a@example.test'] };
      expect((await send(undefined, request)).error?.code).toBe(status.UNAUTHENTICATED);
      const bad = await send('rls_aaaaaaaaaaaa_' + 'x'.repeat(43), request);
      expect(bad.error?.code).toBe(status.UNAUTHENTICATED);
      const { key } = await tenantWithKey(rig.platform.store);
      const invalid = await send(key, request);
      expect(invalid.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(invalid.error?.details).toContain('subject is required without raw');
    });
  });
});
