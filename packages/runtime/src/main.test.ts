import { configError } from '@relais/config';
import { Registry } from '@relais/telemetry';
import { describe, expect, it } from 'vitest';
import { captureLogger } from '../test/log-capture';
import { runMain } from './main';
import { createServiceRuntime } from './runtime';

function harness() {
  const capture = captureLogger();
  const exits: number[] = [];
  let printed = '';
  const options = {
    logger: capture.logger,
    exit: (code: number) => void exits.push(code),
    writeError: (text: string) => void (printed += text),
  };
  return { ...capture, exits, printed: () => printed, options };
}

describe('runMain', () => {
  it('prints config problems for a human and exits 2', async () => {
    const h = harness();
    await runMain(async () => {
      throw configError([{ key: 'amqpUrl', source: 'env AMQP_URL', message: 'expected a URL' }]);
    }, h.options);
    expect(h.exits).toEqual([2]);
    expect(h.printed()).toBe(
      [
        'Configuration is invalid (1 problem):',
        '  - amqpUrl (env AMQP_URL): expected a URL',
        'Fix the settings above and start again; --check-config prints the effective configuration.',
        '',
      ].join('\n'),
    );
    expect(h.records).toEqual([]);
  });

  it('logs any other startup failure once and exits 1', async () => {
    const h = harness();
    await runMain(() => Promise.reject(new Error('store unreachable')), h.options);
    expect(h.exits).toEqual([1]);
    expect(h.actions()).toEqual(['runtime.startup.failed']);
    expect(h.records[0]).toMatchObject({
      'log.level': 'fatal',
      error: { message: 'store unreachable' },
    });
  });

  it('starts the runtime main returns', async () => {
    const h = harness();
    const runtime = createServiceRuntime({
      service: 'test',
      logger: h.logger,
      metrics: new Registry(),
      host: '127.0.0.1',
      port: 0,
      shutdownTimeoutMs: 1_000,
      signals: [],
    });
    await runMain(async () => runtime, h.options);
    expect(h.exits).toEqual([]);
    expect(h.actions()).toEqual(['runtime.started']);
    await runtime.stop('test finished');
  });
});
