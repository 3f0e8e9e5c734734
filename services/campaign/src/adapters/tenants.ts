import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { RelaisError, type TenantId } from '@relais/domain';
import type { Queryable, Store } from '@relais/store';
import type { TenantScope } from '../http/route';

/**
 * API keys look like `rls_<prefix>_<secret>`. The prefix (public, unique) finds the row;
 * only SHA-256 of the secret is stored. The secret carries 256 random bits, so a fast hash
 * is enough: there is nothing to brute-force that a slow hash would protect.
 */
const KEY_PATTERN = /^rls_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function newKeyMaterial(): { prefix: string; secret: string; key: string } {
  const prefix = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, key: `rls_${prefix}_${secret}` };
}

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
  const { prefix, secret, key } = newKeyMaterial();
  const id = randomUUID();
  const { rows } = await db.query<{ created_at: Date }>(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash) VALUES ($1, $2, $3, $4, $5)
     RETURNING created_at`,
    [id, tenantId, name, prefix, hashSecret(secret)],
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

/**
 * Resolves a presented key to its tenant, or throws UNAUTHORIZED with the same message
 * whatever was wrong, so a caller cannot probe which prefixes exist.
 */
export async function authenticate(
  db: Queryable,
  presented: string | undefined,
): Promise<TenantScope> {
  const denied = new RelaisError(
    'UNAUTHORIZED',
    'A valid API key is required: send "Authorization: Bearer rls_…".',
  );
  const match = presented ? KEY_PATTERN.exec(presented) : null;
  if (!match?.[1] || !match[2]) throw denied;
  const { rows } = await db.query<{
    id: string;
    tenant_id: TenantId;
    secret_hash: Buffer;
    revoked_at: Date | null;
  }>(`SELECT id, tenant_id, secret_hash, revoked_at FROM api_keys WHERE prefix = $1`, [match[1]]);
  const row = rows[0];
  const presentedHash = hashSecret(match[2]);
  const stored = row ? Buffer.from(row.secret_hash) : Buffer.alloc(presentedHash.length);
  const equal = timingSafeEqual(stored, presentedHash);
  if (!row || !equal || row.revoked_at) throw denied;
  // At most one write a minute per key: tracking use must not turn every read into a write.
  await db.query(
    `UPDATE api_keys SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [row.id],
  );
  return { tenantId: row.tenant_id, apiKeyId: row.id };
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
