import type { IpPoolName } from '@relais/domain';

/** The class of a message: transactional and marketing mail leave through separate queues. */
export type MessageClass = 'marketing' | 'transactional';

/** One routing rule: every condition given must hold; the first matching rule wins. */
export interface RouteRule {
  messageClass?: MessageClass | undefined;
  /** `example.com` matches that domain only; `*.example.com` its subdomains only. */
  recipientDomains?: readonly string[] | undefined;
  /**
   * Only recipients whose domain has one of these reputation classes (`domainClasses`; a
   * domain not listed there is `default`): strict receivers can get the warmest pool.
   */
  reputation?: readonly string[] | undefined;
  pool: IpPoolName;
}

/** The reputation class of a recipient domain no `domainClasses` entry names. */
export const DEFAULT_REPUTATION_CLASS = 'default';

/** The routing policy as configured. */
export interface RoutingPolicy {
  defaultPool: IpPoolName;
  rules: readonly RouteRule[];
  /**
   * Recipient domain pattern → reputation class (`gmail.com: strict`, `*.corp.example: lax`);
   * an exact domain wins over a wildcard, the longest wildcard over shorter ones.
   */
  domainClasses?: Readonly<Record<string, string>> | undefined;
}

/** Picks the IP pool of one message; built once per policy, called once per recipient. */
export type PoolRouter = (messageClass: MessageClass, recipientDomain: string) => IpPoolName;

/**
 * Compiles the policy into a router. Exact domains become a set lookup and wildcard patterns
 * a suffix check, so a rule with thousands of domains costs one hash probe per recipient.
 */
export function createPoolRouter(policy: RoutingPolicy): PoolRouter {
  const classOf = createDomainClassifier(policy.domainClasses ?? {});
  const needsClass = policy.rules.some((rule) => rule.reputation !== undefined);
  const rules = policy.rules.map((rule) => {
    const patterns = rule.recipientDomains?.map((pattern) => pattern.toLowerCase());
    return {
      messageClass: rule.messageClass,
      exact: patterns && new Set(patterns.filter((pattern) => !pattern.startsWith('*.'))),
      suffixes: patterns?.filter((p) => p.startsWith('*.')).map((p) => p.slice(1)) ?? [],
      any: patterns === undefined,
      reputation: rule.reputation && new Set(rule.reputation),
      pool: rule.pool,
    };
  });
  return (messageClass, recipientDomain) => {
    const domain = recipientDomain.toLowerCase();
    const reputation = needsClass ? classOf(domain) : DEFAULT_REPUTATION_CLASS;
    for (const rule of rules) {
      if (rule.messageClass !== undefined && rule.messageClass !== messageClass) continue;
      if (rule.reputation !== undefined && !rule.reputation.has(reputation)) continue;
      if (
        rule.any ||
        rule.exact?.has(domain) === true ||
        rule.suffixes.some((suffix) => domain.endsWith(suffix))
      ) {
        return rule.pool;
      }
    }
    return policy.defaultPool;
  };
}

/** Every pool the policy can route to: the relay queues that must exist for it. */
export function poolsOf(policy: RoutingPolicy): IpPoolName[] {
  return [...new Set([policy.defaultPool, ...policy.rules.map((rule) => rule.pool)])].sort();
}

/**
 * The reputation class of a domain: an exact entry, else the longest wildcard covering it
 * (`*.example.com` covers subdomains only), else `default`. Checks one probe per label.
 */
export function createDomainClassifier(
  classes: Readonly<Record<string, string>>,
): (domain: string) => string {
  const exact = new Map<string, string>();
  const wildcard = new Map<string, string>();
  for (const [pattern, reputation] of Object.entries(classes)) {
    const key = pattern.toLowerCase();
    if (key.startsWith('*.')) wildcard.set(key.slice(2), reputation);
    else exact.set(key, reputation);
  }
  return (recipientDomain) => {
    const domain = recipientDomain.toLowerCase();
    const direct = exact.get(domain);
    if (direct !== undefined) return direct;
    let dot = domain.indexOf('.');
    while (dot >= 0) {
      const parent = wildcard.get(domain.slice(dot + 1));
      if (parent !== undefined) return parent;
      dot = domain.indexOf('.', dot + 1);
    }
    return DEFAULT_REPUTATION_CLASS;
  };
}
