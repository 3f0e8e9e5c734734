import { Registry, counter } from '@relais/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../test/log-capture';
import { createServiceRuntime, type ServiceRuntime, type ServiceRuntimeOptions } from './runtime';

const running: ServiceRuntime[] = [];

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((runtime) => runtime.stop('test finished')));
});

function build(overrides: Partial<ServiceRuntimeOptions> = {}) {
  const capture = captureLogger();
  const runtime = createServiceRuntime({
    service: 'test',
    logger: capture.logger,
    metrics: new Registry(),
    host: '127.0.0.1',
    port: 0,
    shutdownTimeoutMs: 2_000,
    // No signal handlers inside the test worker: signals are covered by the child-process tests.
    signals: [],
    ...overrides,
  });
  running.push(runtime);
  return { runtime, ...capture };
}

async function get(port: number, path: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text };
}

describe('probes', () => {
  it('answers /healthz while alive', async () => {
    const { runtime } = build();
    const { port } = await runtime.start();
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, text: '{"status":"ok"}' });
  });

  it('reports ready with every check ok', async () => {
    const { runtime } = build({ readiness: { bus: async () => {}, store: async () => {} } });
    const { port } = await runtime.start();
    const response = await get(port, '/readyz');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({
      status: 'ready',
      checks: { bus: 'ok', store: 'ok' },
    });
  });

  it('answers 503 with each failing check’s reason, URL passwords masked, and logs the transition once', async () => {
    const { runtime, actions } = build({
      readiness: {
        bus: async () => {},
        store: () => Promise.reject(new Error('connect ECONNREFUSED postgres://relais:pw@pg:5432')),
      },
    });
    const { port } = await runtime.start();
    const first = await get(port, '/readyz');
    await get(port, '/readyz');
    expect(first.status).toBe(503);
    expect(JSON.parse(first.text)).toEqual({
      status: 'not_ready',
      checks: { bus: 'ok', store: 'connect ECONNREFUSED postgres://relais:***@pg:5432' },
    });
    expect(actions().filter((action) => action === 'runtime.readiness.failed')).toHaveLength(1);
  });

  it('bounds a hanging check by the readiness timeout', async () => {
    const { runtime } = build({
      readiness: { bus: () => new Promise(() => {}) },
      readinessTimeoutMs: 50,
    });
    const { port } = await runtime.start();
    const response = await get(port, '/readyz');
    expect(response.status).toBe(503);
    expect(JSON.parse(response.text)).toEqual({
      status: 'not_ready',
      checks: { bus: 'timed out after 50 ms' },
    });
  });

  it('serves the registry on /metrics with its content type', async () => {
    const metrics = new Registry();
    counter(metrics, 'relais_test_total', 'A test counter.').inc(3);
    const { runtime } = build({ metrics });
    const { port } = await runtime.start();
    const response = await get(port, '/metrics');
    expect(response.status).toBe(200);
    expect(response.type).toBe(metrics.contentType);
    expect(response.text).toContain('relais_test_total 3');
  });

  it('serves routes the service mounts on the app', async () => {
    const { runtime } = build();
    runtime.app.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    const { port } = await runtime.start();
    expect(await get(port, '/hello')).toMatchObject({ status: 200, text: '{"hello":"world"}' });
  });
});

describe('graceful shutdown', () => {
  it('runs hooks phase by phase and keeps probes answering 503 until connections close', async () => {
    const { runtime, actions } = build();
    const { port } = await runtime.start();
    const order: string[] = [];
    const seen: number[] = [];
    runtime.onShutdown('consumer', () => void order.push('intake'), 'intake');
    runtime.onShutdown(
      'observe probes',
      async () => {
        order.push('drain');
        seen.push(
          (await get(port, '/healthz')).status,
          (await get(port, '/readyz')).status,
          (await get(port, '/work')).status,
        );
      },
      'drain',
    );
    runtime.onShutdown('bus', () => void order.push('connections'));
    runtime.onShutdown('tracing', () => void order.push('telemetry'), 'telemetry');

    await runtime.stop('test');

    expect(order).toEqual(['intake', 'drain', 'connections', 'telemetry']);
    expect(seen).toEqual([503, 503, 503]);
    expect(actions()).toEqual([
      'runtime.started',
      'runtime.shutdown.started',
      'runtime.shutdown.intake_stopped',
      'runtime.shutdown.work_drained',
      'runtime.shutdown.connections_closed',
      'runtime.shutdown.telemetry_flushed',
      'runtime.shutdown.completed',
    ]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('waits for tracked work, including HTTP requests already being served', async () => {
    const { runtime } = build();
    let releaseRequest = (): void => {};
    runtime.app.get('/slow', async (_req, res) => {
      await new Promise<void>((resolve) => (releaseRequest = resolve));
      res.json({ done: true });
    });
    const { port } = await runtime.start();
    const slow = get(port, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    let taskDone = false;
    void runtime.trackInFlight(
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => (taskDone = true)),
    );

    const stopping = runtime.stop('test');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(taskDone).toBe(true);
    releaseRequest();
    expect(await slow).toMatchObject({ status: 200, text: '{"done":true}' });
    await stopping;
  });

  it('rejects with the stuck hook named when the deadline passes', async () => {
    const { runtime, records } = build({ shutdownTimeoutMs: 100 });
    await runtime.start();
    runtime.onShutdown('bus', () => new Promise(() => {}));
    await expect(runtime.stop('test')).rejects.toThrow('shutdown exceeded 100 ms; stuck: bus');
    const timedOut = records.find(
      (record) => (record['event'] as { action: string }).action === 'runtime.shutdown.timed_out',
    );
    expect(timedOut?.['relais']).toMatchObject({
      shutdown: { phase: 'connections', stuck_hooks: ['bus'] },
    });
  });

  it('logs a failing hook and carries on with the rest', async () => {
    const { runtime, actions } = build();
    let storeClosed = false;
    runtime.onShutdown('bus', () => Promise.reject(new Error('channel already closed')));
    runtime.onShutdown('store', () => void (storeClosed = true));
    await runtime.stop('test');
    expect(storeClosed).toBe(true);
    expect(actions()).toContain('runtime.shutdown.hook_failed');
    expect(actions()).toContain('runtime.shutdown.completed');
  });

  it('returns the same shutdown to every caller', async () => {
    const { runtime } = build();
    let calls = 0;
    runtime.onShutdown('bus', () => void calls++);
    await Promise.all([runtime.stop('a'), runtime.stop('b')]);
    expect(calls).toBe(1);
    expect(runtime.stopping).toBe(true);
  });
});
