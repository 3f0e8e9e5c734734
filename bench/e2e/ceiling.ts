/**
 * The SMTP ceiling of this machine: Postfix's smtp-source blasting smtp-sink over loopback,
 * no relais involved. Prints one JSON line; the end-to-end benchmark reads its figures
 * against this bound. `npx tsx bench/e2e/ceiling.ts [--messages N] [--size BYTES] [--sessions N]`
 */
import { numberArg } from '../lib/args';
import { measureCeiling } from '../lib/postfix';

const ceiling = await measureCeiling({
  messages: numberArg('--messages', 10_000),
  sizeBytes: numberArg('--size', 2048),
  sessions: numberArg('--sessions', 20),
});
console.log(
  JSON.stringify({
    ceiling: 'smtp-source → smtp-sink',
    messages: ceiling.messages,
    sizeBytes: ceiling.sizeBytes,
    sessions: ceiling.sessions,
    seconds: Number(ceiling.seconds.toFixed(3)),
    perSecond: Math.round(ceiling.perSecond),
    sinkCpuSeconds: ceiling.sinkCpuSeconds,
  }),
);
