import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyReport, parseReport } from '../src/index';
import { FIXTURES } from './helpers';

/** mulberry32: a seeded generator so every run mutates the same way. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (input: Buffer, rnd: () => number) => Buffer;

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

const MUTATIONS: Record<string, Mutation> = {
  flipBytes: (input, rnd) => {
    const out = Buffer.from(input);
    for (let i = 0, n = 1 + int(rnd, 20); i < n && out.length > 0; i++)
      out[int(rnd, out.length)] = int(rnd, 256);
    return out;
  },
  truncate: (input, rnd) => input.subarray(0, int(rnd, input.length + 1)),
  lineEndings: (input, rnd) => {
    const text = input.toString('latin1').replace(/\r\n?/g, '\n');
    const ending = ['\r', '\r\n', '\n\r', '\r\r\n'][int(rnd, 4)]!;
    return Buffer.from(
      text.replace(/\n/g, () => (rnd() < 0.7 ? ending : '\n')),
      'latin1',
    );
  },
  duplicateHeaders: (input, rnd) => {
    const text = input.toString('latin1');
    const lines = text.split('\n');
    const end = Math.max(1, lines.indexOf(''));
    for (let i = 0, n = 1 + int(rnd, 10); i < n; i++) {
      lines.splice(int(rnd, end), 0, lines[int(rnd, end)]!);
    }
    return Buffer.from(lines.join('\n'), 'latin1');
  },
  spliceBoundaries: (input, rnd) => {
    const text = input.toString('latin1');
    const boundary = /boundary="?([^";\s]+)/i.exec(text)?.[1] ?? 'x';
    const at = int(rnd, text.length + 1);
    const junk = [
      '--' + boundary + '--\n',
      '--' + boundary + '\n\n',
      'Content-Type: multipart/mixed; boundary="' + boundary + '"\n\n',
    ][int(rnd, 3)]!;
    return Buffer.from(text.slice(0, at) + junk + text.slice(at), 'latin1');
  },
  deleteRange: (input, rnd) => {
    const from = int(rnd, input.length + 1);
    const to = Math.min(input.length, from + int(rnd, 2000));
    return Buffer.concat([input.subarray(0, from), input.subarray(to)]);
  },
  repeatRange: (input, rnd) => {
    const from = int(rnd, input.length + 1);
    const piece = input.subarray(from, from + int(rnd, 500));
    return Buffer.concat([
      input.subarray(0, from),
      ...Array<Buffer>(1 + int(rnd, 50)).fill(piece),
      input.subarray(from),
    ]);
  },
};

function fixtures(): Buffer[] {
  const out: Buffer[] = [];
  for (const folder of ['bounces', 'arf-examples']) {
    const dir = join(FIXTURES, folder);
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()) {
      out.push(readFileSync(join(dir, file)));
    }
  }
  return out;
}

/** Tens of thousands in all, in slices so one slice's report names its seed. */
const SEEDS = [20261127, 20261128, 20261129];
const PER_SEED = 8000;

describe('fuzzing parseReport and classifyReport with mutated fixtures', () => {
  it.each(SEEDS)(
    'seed %i: never throws, always answers with a kind, each message well under 500 ms',
    (seed) => {
      const inputs = fixtures();
      const rnd = random(seed);
      const names = Object.keys(MUTATIONS);
      const kinds = new Map<string, number>();
      let maxMs = 0;
      let runs = 0;
      for (let i = 0; i < PER_SEED; i++) {
        let input = inputs[int(rnd, inputs.length)]!;
        // One to three stacked mutations, so broken inputs get broken again.
        for (let m = 0, n = 1 + int(rnd, 3); m < n; m++)
          input = MUTATIONS[names[int(rnd, names.length)]!]!(input, rnd);
        const started = performance.now();
        const parsed = parseReport(input);
        const verdict = classifyReport(parsed);
        maxMs = Math.max(maxMs, performance.now() - started);
        expect(verdict.kind).toBe(parsed.kind);
        runs += 1;
        expect(['bounce', 'feedback', 'autoreply', 'other']).toContain(parsed.kind);
        expect(Array.isArray(parsed.recipients)).toBe(true);
        if (parsed.kind === 'other') expect(parsed.reason).toBeTruthy();
        kinds.set(parsed.kind, (kinds.get(parsed.kind) ?? 0) + 1);
      }
      console.log(
        `fuzz: ${runs} mutated messages, max ${maxMs.toFixed(1)} ms per message`,
        Object.fromEntries(kinds),
      );
      expect(runs).toBe(PER_SEED);
      // The bound per message, a guard against catastrophic regex backtracking; the
      // typical message takes about a millisecond.
      expect(maxMs).toBeLessThan(500);
      // Mutations keep most messages readable: the parser is not just answering `other`.
      expect(kinds.get('bounce') ?? 0).toBeGreaterThan(PER_SEED / 4);
    },
  );
});
