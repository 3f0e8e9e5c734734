import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { defineRoute } from './route';
import { buildRouter } from './router';

const logger = createLogger({ service: 'http-api-test', level: 'silent' });
// Public routes never touch the store; a call would fail the test loudly.
const store = new Proxy({} as Store, {
  get: () => {
    throw new Error('store used');
  },
});

const ping = (path: string, answer: string) =>
  defineRoute({
    method: 'get',
    path,
    operationId: answer,
    summary: answer,
    tag: 'Test',
    public: true,
    handler: () => Promise.resolve({ answer }),
  });

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(app: express.Express): Promise<string> {
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('buildRouter', () => {
  it('lets unknown paths through to a later router when notFound is false', async () => {
    const app = express();
    const deps = { store, logger };
    app.use(
      '/v1',
      buildRouter([ping('/a', 'first')], deps, {
        requestFailedAction: 'a.failed',
        notFound: false,
      }),
    );
    app.use('/v1', buildRouter([ping('/b', 'second')], deps, { requestFailedAction: 'b.failed' }));
    const base = await serve(app);

    const first = await fetch(`${base}/v1/a`);
    expect(await first.json()).toEqual({ answer: 'first' });
    const second = await fetch(`${base}/v1/b`);
    expect(await second.json()).toEqual({ answer: 'second' });
    expect(second.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await fetch(`${base}/v1/c`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'No such endpoint.' },
    });
  });

  it('answers 404 itself by default, so nothing mounted after it is reached', async () => {
    const app = express();
    const deps = { store, logger };
    app.use('/v1', buildRouter([ping('/b', 'second')], deps, { requestFailedAction: 'b.failed' }));
    app.use('/v1', buildRouter([ping('/a', 'first')], deps, { requestFailedAction: 'a.failed' }));
    const base = await serve(app);

    const shadowed = await fetch(`${base}/v1/a`);
    expect(shadowed.status).toBe(404);
  });

  it('refuses a protected route without an API key before reading the store', async () => {
    const app = express();
    const route = defineRoute({
      method: 'get',
      path: '/secret',
      operationId: 'secret',
      summary: 'secret',
      tag: 'Test',
      handler: () => Promise.resolve({}),
    });
    app.use('/v1', buildRouter([route], { store, logger }, { requestFailedAction: 'x.failed' }));
    const base = await serve(app);

    const reply = await fetch(`${base}/v1/secret`);
    expect(reply.status).toBe(401);
    expect(((await reply.json()) as any).error.code).toBe('UNAUTHORIZED');
  });
});
