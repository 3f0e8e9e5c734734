import { RelaisError, normalizeEmail, type TenantId } from '@relais/domain';
import type { Queryable } from '@relais/store';

/** `address` suppresses one normalized address; `domain` every address at that domain. */
export type SuppressionKind = 'address' | 'domain';

export interface Suppression {
  kind: SuppressionKind;
  value: string;
  reason: string;
  source: string;
  createdAt: Date;
}

type Row = {
  kind: SuppressionKind;
  value: string;
  reason: string;
  source: string;
  created_at: Date;
};

const toSuppression = (row: Row): Suppression => ({
  kind: row.kind,
  value: row.value,
  reason: row.reason,
  source: row.source,
  createdAt: row.created_at,
});

/** Normalizes the way contacts are normalized, so a suppression matches its contacts exactly. */
export function normalizeSuppression(
  kind: SuppressionKind,
  value: string,
  pointer = '/value',
): string {
  const probe = normalizeEmail(kind === 'address' ? value : `x@${value.trim().replace(/^@/, '')}`);
  if (!probe.ok) {
    throw new RelaisError(
      'VALIDATION_FAILED',
      kind === 'address'
        ? `invalid email address: ${probe.reason}`
        : `invalid domain: ${probe.reason}`,
      { details: { pointer } },
    );
  }
  return kind === 'address' ? probe.email : probe.domain;
}

export async function addSuppression(
  db: Queryable,
  tenantId: TenantId,
  input: { kind: SuppressionKind; value: string; reason: string; source?: string },
): Promise<{ suppression: Suppression; created: boolean }> {
  const value = normalizeSuppression(input.kind, input.value);
  const { rows } = await db.query<Row & { inserted: boolean }>(
    `INSERT INTO suppressions (tenant_id, kind, value, reason, source) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, kind, value) DO UPDATE SET reason = EXCLUDED.reason, source = EXCLUDED.source
     RETURNING kind, value, reason, source, created_at, (xmax = 0) AS inserted`,
    [tenantId, input.kind, value, input.reason, input.source ?? 'api'],
  );
  const row = rows[0]!;
  return { suppression: toSuppression(row), created: row.inserted };
}

export async function removeSuppression(
  db: Queryable,
  tenantId: TenantId,
  kind: SuppressionKind,
  value: string,
): Promise<void> {
  const normalized = normalizeEmail(kind === 'address' ? value : `x@${value}`);
  const key = normalized.ok ? (kind === 'address' ? normalized.email : normalized.domain) : value;
  const { rowCount } = await db.query(
    `DELETE FROM suppressions WHERE tenant_id = $1 AND kind = $2 AND value = $3`,
    [tenantId, kind, key],
  );
  if (rowCount === 0) {
    throw new RelaisError('NOT_FOUND', 'No such suppression.', { details: { parameter: 'value' } });
  }
}

export async function listSuppressions(
  db: Queryable,
  tenantId: TenantId,
  filter: { kind?: SuppressionKind | undefined; after?: string | undefined; limit: number },
): Promise<{ items: Suppression[]; next: string | null }> {
  const { rows } = await db.query<Row>(
    `SELECT kind, value, reason, source, created_at FROM suppressions
     WHERE tenant_id = $1 AND ($2::text IS NULL OR kind = $2)
       AND ($3::text IS NULL OR kind || ':' || value > $3)
     ORDER BY kind || ':' || value LIMIT $4`,
    [tenantId, filter.kind ?? null, filter.after ?? null, filter.limit + 1],
  );
  const items = rows.slice(0, filter.limit).map(toSuppression);
  const last = items.at(-1);
  return { items, next: rows.length > filter.limit && last ? `${last.kind}:${last.value}` : null };
}
