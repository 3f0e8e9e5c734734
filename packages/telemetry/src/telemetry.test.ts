import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskEmail } from './logger';
import { counter, createMetricsRegistry } from './metrics';
import { contextFromTraceparent, currentTraceparent, traceIdOf } from './tracing';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('writes Elastic Common Schema records with the service name', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'dispatcher', destination });
    logger.info({ 'event.action': 'dispatch.rendered' }, 'batch rendered');
    const record = lines[0]!;
    expect(record['ecs.version']).toBeDefined();
    expect(record['@timestamp']).toBeDefined();
    expect(record['log.level']).toBe('info');
    expect(record['message']).toBe('batch rendered');
    expect(record['service']).toMatchObject({ name: 'dispatcher' });
  });

  it('redacts credentials and message bodies wherever they appear', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'campaign', destination });
    logger.info({ password: 'hunter2', smtp: { password: 'x' }, body: 'Hello Jane', apiKey: 'rk_1' }, 'x');
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('Hello Jane');
    expect(text).not.toContain('rk_1');
  });

  it('masks addresses down to their domain', () => {
    expect(maskEmail('jane.doe@example.org')).toBe('j***@example.org');
    expect(maskEmail('nonsense')).toBe('***');
  });
});

describe('metrics', () => {
  it('labels every series with the service and reuses a metric registered twice', async () => {
    const registry = createMetricsRegistry('analytics');
    const a = counter(registry, 'relais_test_total', 'test counter', ['outcome']);
    const b = counter(registry, 'relais_test_total', 'test counter', ['outcome']);
    expect(a).toBe(b);
    a.inc({ outcome: 'ok' });
    const text = await registry.metrics();
    expect(text).toContain('relais_test_total{outcome="ok",service="analytics"} 1');
    expect(text).toContain('process_cpu_seconds_total');
  });
});

describe('trace context', () => {
  it('carries a traceparent through a context unchanged', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(currentTraceparent(contextFromTraceparent(traceparent))).toBe(traceparent);
    expect(traceIdOf(traceparent)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(currentTraceparent(contextFromTraceparent(null))).toBeNull();
  });
});
