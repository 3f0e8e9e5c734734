import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RelaisError, type TenantId } from '@relais/domain';
import type { Queryable } from '@relais/store';
import type { TenantScope } from './route';

/**
 * API keys look like `rls_<prefix>_<secret>`. The prefix (public, unique) finds the row;
 * only SHA-256 of the secret is stored. The secret carries 256 random bits, so a fast hash
 * is enough: there is nothing to brute-force that a slow hash would protect.
 */
const KEY_PATTERN = /^rls_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** What `api_keys.secret_hash` stores for a key's secret. */
export function hashApiKeySecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** A fresh key: its row stores `prefix` and the hash of `secret`; `key` goes to its holder. */
export function newApiKeyMaterial(): { prefix: string; secret: string; key: string } {
  const prefix = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, key: `rls_${prefix}_${secret}` };
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
  const presentedHash = hashApiKeySecret(match[2]);
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
