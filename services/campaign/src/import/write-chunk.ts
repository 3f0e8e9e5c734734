import type { Queryable, Store } from '@relais/store';
import type { ContactRow, ImportMode } from './types';

/** The consent an import records, with its defaults applied. */
export interface ResolvedConsent {
  purpose: string;
  granted: boolean;
  recordedAt: Date;
  source: string;
  ip: string | null;
  textVersion: string | null;
}

/** What every chunk of one import does besides writing its rows. */
export interface WritePlan {
  mode: ImportMode;
  /** Tags added to every contact. */
  extraTags: readonly string[];
  consent: ResolvedConsent | undefined;
}

/** What one chunk did: distinct contacts written, of which newly created. */
export interface ChunkWritten {
  contacts: number;
  created: number;
}

/**
 * A temporary table is private to the connection, so concurrent imports (even of one tenant)
 * never see each other's rows, and ON COMMIT DROP leaves nothing behind on a pooled
 * connection. Works the same on PGlite, whose single connection lives as long as the store.
 */
const STAGING = 'pg_temp.relais_contact_import';
const STAGING_COLUMNS = ['email', 'domain', 'attributes', 'tags'] as const;
const CREATE_STAGING = `CREATE TEMP TABLE relais_contact_import (
  email text NOT NULL,
  domain text NOT NULL,
  attributes jsonb NOT NULL,
  tags text[] NOT NULL
) ON COMMIT DROP`;

/**
 * One statement per chunk: the upsert, the consent ledger rows (for every contact the upsert
 * wrote, via RETURNING) and the counts. `xmax = 0` holds exactly for rows this statement
 * inserted, which tells created from updated without a second lookup.
 */
export function chunkStatement(plan: WritePlan): string {
  const onConflict =
    plan.mode === 'insert-only'
      ? 'DO NOTHING'
      : `DO UPDATE SET
      attributes = c.attributes || EXCLUDED.attributes,
      tags = CASE WHEN EXCLUDED.tags <@ c.tags THEN c.tags
        ELSE ARRAY(SELECT DISTINCT t FROM unnest(c.tags || EXCLUDED.tags) AS t ORDER BY t) END,
      ${plan.consent ? 'consents = c.consents || EXCLUDED.consents,' : ''}
      updated_at = now()`;
  const recorded = plan.consent
    ? `, recorded AS (
      INSERT INTO consent_events
        (tenant_id, contact_id, purpose, granted, recorded_at, source, ip, text_version)
      SELECT $1::uuid, id, $4::text, $5::boolean, $6::timestamptz, $7::text, $8::inet, $9::text
      FROM written
    )`
    : '';
  return `WITH written AS (
    INSERT INTO contacts AS c (tenant_id, email, domain, attributes, tags, consents)
    SELECT $1::uuid, s.email, s.domain, s.attributes,
      CASE WHEN cardinality($2::text[]) = 0 THEN s.tags
        ELSE ARRAY(SELECT DISTINCT t FROM unnest(s.tags || $2::text[]) AS t ORDER BY t) END,
      $3::jsonb
    FROM ${STAGING} AS s
    ON CONFLICT (tenant_id, email) ${onConflict}
    RETURNING c.id, (c.xmax = 0) AS inserted
  )${recorded}
  SELECT count(*)::int AS contacts, (count(*) FILTER (WHERE inserted))::int AS created FROM written`;
}

export function chunkParams(tenantId: string, plan: WritePlan): unknown[] {
  const { consent } = plan;
  if (!consent) return [tenantId, plan.extraTags, {}];
  const state: Record<string, unknown> = {
    granted: consent.granted,
    at: consent.recordedAt.toISOString(),
    source: consent.source,
  };
  if (consent.textVersion !== null) state['textVersion'] = consent.textVersion;
  return [
    tenantId,
    plan.extraTags,
    { [consent.purpose]: state },
    consent.purpose,
    consent.granted,
    consent.recordedAt,
    consent.source,
    consent.ip,
    consent.textVersion,
  ];
}

/** A text[] literal; COPY then escapes its backslashes once more. */
function arrayLiteral(items: readonly string[]): string {
  if (items.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += `"${items[i]!.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

function* stagingRows(rows: Iterable<ContactRow>): Generator<readonly unknown[]> {
  for (const row of rows) {
    const tags = row.tags.length > 1 ? [...row.tags].sort() : row.tags;
    yield [row.email, row.domain, row.attributes, arrayLiteral(tags)];
  }
}

/**
 * Writes one chunk of distinct contacts in its own transaction: COPY into the staging table,
 * then the set-based upsert. Either the whole chunk lands or none of it.
 */
export async function writeChunk(
  store: Store,
  rows: Iterable<ContactRow>,
  statement: string,
  params: readonly unknown[],
): Promise<ChunkWritten> {
  return store.transaction(async (tx: Queryable) => {
    await tx.exec(CREATE_STAGING);
    await tx.copyRows(STAGING, STAGING_COLUMNS, stagingRows(rows));
    const { rows: result } = await tx.query<ChunkWritten>(statement, params);
    return result[0] ?? { contacts: 0, created: 0 };
  });
}
