/**
 * Mailbox providers by recipient domain: the KPI slices deliverability is read by. Data,
 * not code: a provider that hosts another brand's domain is one more row. Domains whose
 * mail a provider hosts under the customer's own name (Google Workspace, Microsoft 365)
 * cannot be told from the domain and count as `other`.
 */
export const PROVIDER_DOMAINS = {
  google: ['gmail.com', 'googlemail.com'],
  microsoft: ['outlook.com', 'hotmail.com', 'hotmail.fr', 'live.com', 'live.fr', 'msn.com'],
  yahoo: ['yahoo.com', 'yahoo.fr', 'ymail.com', 'aol.com', 'aol.fr'],
  apple: ['icloud.com', 'me.com', 'mac.com'],
  orange: ['orange.fr', 'wanadoo.fr'],
  sfr: ['sfr.fr', 'neuf.fr'],
  free: ['free.fr'],
  laposte: ['laposte.net'],
  gmx: ['gmx.com', 'gmx.de', 'gmx.fr', 'gmx.net', 'web.de'],
} as const satisfies Record<string, readonly string[]>;

/** A provider name of the table above, or `other`. */
export type Provider = keyof typeof PROVIDER_DOMAINS | 'other';

const BY_DOMAIN = new Map<string, Provider>(
  Object.entries(PROVIDER_DOMAINS).flatMap(([provider, domains]) =>
    domains.map((domain) => [domain, provider as Provider] as const),
  ),
);

/** The provider of a recipient domain (case and a trailing dot ignored); `other` if unknown. */
export function providerOf(domain: string): Provider {
  const normalized = domain.trim().toLowerCase().replace(/\.$/, '');
  return BY_DOMAIN.get(normalized) ?? 'other';
}
