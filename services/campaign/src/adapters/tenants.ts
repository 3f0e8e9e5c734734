import { randomUUID } from 'node:crypto';
import { RelaisError, type TenantId } from '@relais/domain';
import { hashApiKeySecret, newApiKeyMaterial, type TenantScope } from '@relais/http-api';
import type { Queryable, Store } from '@relais/store';

/** A key as listed: never the secret. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key at creation: the only time its full value exists outside its holder. */
export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

export async function createApiKey(
  db: Queryable,
  tenantId: TenantId,
  name: string,
): Promise<CreatedApiKey> {
  const { prefix, secret, key } = newApiKeyMaterial();
  const id = randomUUID();
  const { rows } = await db.query<{ created_at: Date }>(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash) VALUES ($1, $2, $3, $4, $5)
     RETURNING created_at`,
    [id, tenantId, name, prefix, hashApiKeySecret(secret)],
  );
  return {
    id,
    name,
    prefix,
    key,
    createdAt: rows[0]!.created_at,
    lastUsedAt: null,
    revokedAt: null,
  };
}

/** Creates a tenant and its first key in one transaction. */
export async function createTenant(
  store: Store,
  name: string,
): Promise<{ tenant: { id: TenantId; name: string }; apiKey: CreatedApiKey }> {
  const id = randomUUID() as TenantId;
  return store.transaction(async (tx) => {
    await tx.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [id, name]);
    const apiKey = await createApiKey(tx, id, 'initial');
    return { tenant: { id, name }, apiKey };
  });
}

export async function getTenant(
  db: Queryable,
  tenantId: TenantId,
): Promise<{ id: string; name: string; createdAt: Date }> {
  const { rows } = await db.query<{ id: string; name: string; created_at: Date }>(
    `SELECT id, name, created_at FROM tenants WHERE id = $1`,
    [tenantId],
  );
  const row = rows[0];
  if (!row) throw new RelaisError('NOT_FOUND', 'tenant not found');
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

type KeyRow = {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

function keyView(row: KeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export async function listApiKeys(db: Queryable, tenantId: TenantId): Promise<ApiKeyView[]> {
  const { rows } = await db.query<KeyRow>(
    `SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys
     WHERE tenant_id = $1 ORDER BY created_at`,
    [tenantId],
  );
  return rows.map(keyView);
}

export async function revokeApiKey(
  db: Queryable,
  scope: TenantScope,
  keyId: string,
): Promise<void> {
  if (keyId === scope.apiKeyId) {
    throw new RelaisError(
      'STATE_CONFLICT',
      'A key cannot revoke itself; use another key of the tenant.',
      {
        details: { parameter: 'keyId' },
      },
    );
  }
  const { rowCount } = await db.query(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND tenant_id = $2`,
    [keyId, scope.tenantId],
  );
  if (rowCount === 0)
    throw new RelaisError('NOT_FOUND', 'API key not found', { details: { parameter: 'keyId' } });
}
