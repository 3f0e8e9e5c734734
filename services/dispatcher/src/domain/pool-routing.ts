import type { IpPoolName } from '@relais/domain';

/** The class of a message: transactional and marketing mail leave through separate queues. */
export type MessageClass = 'marketing' | 'transactional';

/** One routing rule: every condition given must hold; the first matching rule wins. */
export interface RouteRule {
  messageClass?: MessageClass | undefined;
  /** `example.com` matches that domain only; `*.example.com` its subdomains only. */
  recipientDomains?: readonly string[] | undefined;
  pool: IpPoolName;
}

/** The routing policy as configured. */
export interface RoutingPolicy {
  defaultPool: IpPoolName;
  rules: readonly RouteRule[];
}

/** Picks the IP pool of one message; built once per policy, called once per recipient. */
export type PoolRouter = (messageClass: MessageClass, recipientDomain: string) => IpPoolName;

/**
 * Compiles the policy into a router. Exact domains become a set lookup and wildcard patterns
 * a suffix check, so a rule with thousands of domains costs one hash probe per recipient.
 */
export function createPoolRouter(policy: RoutingPolicy): PoolRouter {
  const rules = policy.rules.map((rule) => {
    const patterns = rule.recipientDomains?.map((pattern) => pattern.toLowerCase());
    return {
      messageClass: rule.messageClass,
      exact: patterns && new Set(patterns.filter((pattern) => !pattern.startsWith('*.'))),
      suffixes: patterns?.filter((p) => p.startsWith('*.')).map((p) => p.slice(1)) ?? [],
      any: patterns === undefined,
      pool: rule.pool,
    };
  });
  return (messageClass, recipientDomain) => {
    const domain = recipientDomain.toLowerCase();
    for (const rule of rules) {
      if (rule.messageClass !== undefined && rule.messageClass !== messageClass) continue;
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
