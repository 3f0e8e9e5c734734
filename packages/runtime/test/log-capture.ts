import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@relais/telemetry';

/** A logger whose records land in `records`, parsed, for asserting on event codes. */
export function captureLogger(): {
  logger: Logger;
  records: Record<string, unknown>[];
  actions: () => string[];
} {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const logger = createLogger({ service: 'test', destination });
  const actions = () =>
    records.map((record) => (record['event'] as { action?: string } | undefined)?.action ?? '');
  return { logger, records, actions };
}
