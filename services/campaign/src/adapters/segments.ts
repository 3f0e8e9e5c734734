import { RelaisError, type TenantId } from '@relais/domain';
import {
  SegmentRuleError,
  compileSegment,
  parseSegmentRule,
  type SegmentRule,
} from '@relais/segments';
import type { Queryable } from '@relais/store';
import { InputError } from '@relais/http-api';

/** A saved segment: a name and its rule document. */
export interface Segment {
  id: string;
  name: string;
  rules: unknown;
  createdAt: Date;
  updatedAt: Date;
}

type Row = { id: string; name: string; rules: unknown; created_at: Date; updated_at: Date };

const toSegment = (row: Row): Segment => ({
  id: row.id,
  name: row.name,
  rules: row.rules,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const notFound = () =>
  new RelaisError('NOT_FOUND', 'No segment with this id.', { details: { parameter: 'segmentId' } });

/**
 * Validates a rule document from a request body; the compiler's pointer is relative to the
 * rule, so it is re-rooted at `/rules` to point into the body the caller sent.
 */
export function parseRulesField(rules: unknown): SegmentRule {
  try {
    return parseSegmentRule(rules);
  } catch (error) {
    if (error instanceof SegmentRuleError) {
      const issues = error.issues.map((issue) => ({ ...issue, pointer: `/rules${issue.pointer}` }));
      throw new InputError(
        error.message.replace(/at (\/|the root)/, (m) =>
          m === 'at the root' ? 'at /rules' : 'at /rules/',
        ),
        issues,
        error,
      );
    }
    throw error;
  }
}

export async function createSegment(
  db: Queryable,
  tenantId: TenantId,
  input: { name: string; rules: unknown },
): Promise<Segment> {
  parseRulesField(input.rules);
  const { rows } = await db.query<Row>(
    `INSERT INTO segments (id, tenant_id, name, rules) VALUES (gen_random_uuid(), $1, $2, $3::jsonb)
     RETURNING id, name, rules, created_at, updated_at`,
    [tenantId, input.name, JSON.stringify(input.rules)],
  );
  return toSegment(rows[0]!);
}

export async function getSegment(
  db: Queryable,
  tenantId: TenantId,
  segmentId: string,
): Promise<Segment> {
  const { rows } = await db.query<Row>(
    `SELECT id, name, rules, created_at, updated_at FROM segments WHERE tenant_id = $1 AND id = $2`,
    [tenantId, segmentId],
  );
  if (!rows[0]) throw notFound();
  return toSegment(rows[0]);
}

export async function updateSegment(
  db: Queryable,
  tenantId: TenantId,
  segmentId: string,
  input: { name?: string | undefined; rules?: unknown },
): Promise<Segment> {
  if (input.rules !== undefined) parseRulesField(input.rules);
  const { rows } = await db.query<Row>(
    `UPDATE segments SET name = coalesce($3, name), rules = coalesce($4::jsonb, rules), updated_at = now()
     WHERE tenant_id = $1 AND id = $2 RETURNING id, name, rules, created_at, updated_at`,
    [
      tenantId,
      segmentId,
      input.name ?? null,
      input.rules === undefined ? null : JSON.stringify(input.rules),
    ],
  );
  if (!rows[0]) throw notFound();
  return toSegment(rows[0]);
}

export async function deleteSegment(
  db: Queryable,
  tenantId: TenantId,
  segmentId: string,
): Promise<void> {
  const { rows } = await db.query<{ used: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND segment_id = $2) AS used`,
    [tenantId, segmentId],
  );
  if (rows[0]?.used) {
    throw new RelaisError(
      'STATE_CONFLICT',
      'The segment is used by a campaign; delete or change the campaign first.',
      {
        details: { parameter: 'segmentId' },
      },
    );
  }
  const { rowCount } = await db.query(`DELETE FROM segments WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    segmentId,
  ]);
  if (rowCount === 0) throw notFound();
}

export async function listSegments(db: Queryable, tenantId: TenantId): Promise<Segment[]> {
  const { rows } = await db.query<Row>(
    `SELECT id, name, rules, created_at, updated_at FROM segments WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toSegment);
}

/** What a rule selects now: how many contacts, how many a marketing send could reach, a sample. */
export interface SegmentPreview {
  matching: number;
  /** Matching, not suppressed, not unsubscribed, with marketing consent. */
  marketingEligible: number;
  sample: { id: string; email: string; attributes: Record<string, unknown>; tags: string[] }[];
}

export async function previewSegment(
  db: Queryable,
  tenantId: TenantId,
  rule: SegmentRule,
  options: { sampleSize: number; now: Date },
): Promise<SegmentPreview> {
  const compiled = compileSegment(rule, { alias: 'c', firstParam: 2, now: options.now });
  const params = [tenantId, ...compiled.params];
  const { rows: counts } = await db.query<{ matching: string; eligible: string }>(
    `SELECT count(*) AS matching,
            count(*) FILTER (WHERE c.status = 'active'
              AND (c.consents -> 'marketing' ->> 'granted') = 'true'
              AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id
                AND ((s.kind = 'address' AND s.value = c.email) OR (s.kind = 'domain' AND s.value = c.domain)))
            ) AS eligible
     FROM contacts c WHERE c.tenant_id = $1 AND (${compiled.sql})`,
    params,
  );
  const { rows: sample } = await db.query<{
    id: string;
    email: string;
    attributes: Record<string, unknown>;
    tags: string[];
  }>(
    `SELECT c.id, c.email, c.attributes, c.tags FROM contacts c
     WHERE c.tenant_id = $1 AND (${compiled.sql}) ORDER BY c.id LIMIT ${Math.max(0, Math.floor(options.sampleSize))}`,
    params,
  );
  return {
    matching: Number(counts[0]?.matching ?? 0),
    marketingEligible: Number(counts[0]?.eligible ?? 0),
    sample,
  };
}
