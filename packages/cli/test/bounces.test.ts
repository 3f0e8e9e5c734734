import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnTs } from '@relais/testing';

// `relais bounces classify` and `eval` over the labelled fixtures kept in the repository
// (a sample of the corpus, with its licences).

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('../../bounces/test/fixtures/', import.meta.url));

describe('relais bounces', () => {
  it('classifies each message as one JSON line with its recipients', async () => {
    const run = spawnTs(entry, { args: ['bounces', 'classify', fixtures] });
    const { code, stderr } = await run.exited;
    expect(code, stderr).toBe(0);
    const lines = run.lines.filter(Boolean).map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(['file', 'kind', 'recipients']);
      expect(['bounce', 'feedback', 'autoreply', 'other']).toContain(line.kind);
      for (const recipient of line.recipients) {
        expect(Object.keys(recipient).sort()).toEqual(
          ['address', 'confidence', 'hard', 'replyCode', 'reason', 'status'].sort(),
        );
        expect(recipient.confidence).toBeGreaterThanOrEqual(0);
        expect(recipient.confidence).toBeLessThanOrEqual(1);
      }
    }
    expect(lines.some((line) => line.kind === 'bounce' && line.recipients.length > 0)).toBe(true);
    expect(lines.some((line) => line.kind === 'feedback')).toBe(true);
  });

  it('scores against labels.tsv: a confusion table, then the JSON summary last', async () => {
    const run = spawnTs(entry, { args: ['bounces', 'eval', fixtures] });
    const { code, stderr } = await run.exited;
    expect(code, stderr).toBe(0);
    expect(run.lines[0]).toContain('expected reason');
    const summary = JSON.parse(run.lines.filter(Boolean).at(-1)!);
    expect(Object.keys(summary)).toEqual(['messages', 'reasonAccuracy', 'hardSoftAccuracy']);
    expect(summary.messages).toBeGreaterThan(20);
    for (const key of ['reasonAccuracy', 'hardSoftAccuracy']) {
      expect(summary[key]).toBeGreaterThan(0);
      expect(summary[key]).toBeLessThanOrEqual(1);
    }
  });

  it('refuses to guess without a subcommand and a path', async () => {
    const run = spawnTs(entry, { args: ['bounces', 'classify'] });
    const { code, stderr } = await run.exited;
    expect(code).toBe(2);
    expect(stderr).toContain('usage: relais bounces');
  });
});
