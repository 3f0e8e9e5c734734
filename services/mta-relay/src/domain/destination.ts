import { createHash } from 'node:crypto';

/** Where a message is handed over: one SMTP pool per distinct host:port. */
export interface Destination {
  host: string;
  port: number;
}

/** A static route's shape as the domain logic needs it. */
export interface Route extends Destination {
  pattern: string;
}

/** An MX record, in the shape of `dns.promises.resolveMx`. */
export interface MxRecord {
  exchange: string;
  priority: number;
}

/** The recipient domain of an address, lowercased (the part after the last `@`). */
export function recipientDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** True when `domain` is covered by `pattern` (`*.x` covers subdomains of x, not x itself). */
export function matchesPattern(pattern: string, domain: string): boolean {
  return pattern.startsWith('*.') ? domain.endsWith(pattern.slice(1)) : domain === pattern;
}

/** The first static route whose pattern covers `domain`, if any. */
export function matchRoute(routes: readonly Route[], domain: string): Destination | undefined {
  const route = routes.find((candidate) => matchesPattern(candidate.pattern, domain));
  return route === undefined ? undefined : { host: route.host, port: route.port };
}

/** What the MX answer says about a domain. */
export type MxChoice =
  /**
   * Deliver to this host (the best-preference exchange, or the domain itself); `fallbacks`
   * are the other exchanges in preference order, present only when there are some.
   */
  | { kind: 'host'; host: string; fallbacks?: string[] }
  /** RFC 7505 null MX: the domain declares it accepts no mail. */
  | { kind: 'null-mx' };

/**
 * Orders the exchanges of an MX answer. No record at all means the domain itself is the mail
 * host (RFC 5321 §5.1 implicit MX, which the A/AAAA lookup of the connection then finds).
 * Exchanges are tried in preference order (lowest first; equal preferences keep DNS order),
 * each host once.
 */
export function chooseExchange(domain: string, records: readonly MxRecord[]): MxChoice {
  if (records.length === 0) return { kind: 'host', host: domain };
  if (records.some((record) => isNullExchange(record.exchange))) return { kind: 'null-mx' };
  const hosts = [...records]
    .sort((a, b) => a.priority - b.priority)
    .map((record) => record.exchange.replace(/\.$/, '').toLowerCase())
    .filter((host, index, all) => all.indexOf(host) === index);
  const [host = domain, ...fallbacks] = hosts;
  return fallbacks.length === 0 ? { kind: 'host', host } : { kind: 'host', host, fallbacks };
}

function isNullExchange(exchange: string): boolean {
  return exchange === '' || exchange === '.';
}

/**
 * A UUID derived from `parts`, so an outcome event published again for the same attempt
 * (the handler ran twice after a lost ack) carries the same envelope id and is deduped by
 * its consumers. Formatted as an RFC 9562 version 8 (custom) UUID.
 */
export function derivedUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
