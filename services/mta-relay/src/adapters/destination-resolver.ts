import { RelaisError } from '@relais/domain';
import { chooseExchange, matchRoute, type MxRecord, type Route } from '../domain/destination';
import type { DestinationResolver, MxResolver, Routing } from '../ports';

/** How the resolver is set up. */
export interface DestinationResolverOptions {
  routes: readonly Route[];
  resolver: MxResolver;
  /** Port for hosts found through DNS. */
  mxPort: number;
  /** How long an MX answer is reused. */
  cacheTtlMs: number;
  /** False: a domain without a static route is unroutable (nothing is looked up). */
  mxLookup?: boolean;
  now?: () => number;
}

const MAX_CACHED_DOMAINS = 50_000;

// Answers that mean "this name has no MX", as opposed to "DNS could not answer now".
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/**
 * Static routes first (first match wins), then MX with a small cache so a campaign to one
 * provider does not ask DNS once per message. Failed lookups are not cached: the retry
 * asks again.
 */
export function createDestinationResolver(
  options: DestinationResolverOptions,
): DestinationResolver {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { routing: Routing; expiresAtMs: number }>();

  const lookUp = async (domain: string): Promise<MxRecord[]> => {
    try {
      return await options.resolver.resolveMx(domain);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && NO_RECORDS.has(code)) return [];
      throw new RelaisError('HANDLER_FAILED', 'MX lookup failed', {
        cause: error,
        retryable: true,
        details: { domain, dnsCode: typeof code === 'string' ? code : null },
      });
    }
  };

  return {
    async resolve(domain) {
      const routed = matchRoute(options.routes, domain);
      if (routed !== undefined) return { kind: 'destination', destination: routed };
      if (options.mxLookup === false) return { kind: 'unroutable' };
      const cached = cache.get(domain);
      if (cached !== undefined && cached.expiresAtMs > now()) return cached.routing;
      const choice = chooseExchange(domain, await lookUp(domain));
      const toDestination = (host: string) => ({ host, port: options.mxPort });
      const routing: Routing =
        choice.kind === 'null-mx'
          ? { kind: 'no-mail' }
          : {
              kind: 'destination',
              destination: toDestination(choice.host),
              ...(choice.fallbacks === undefined
                ? {}
                : { fallbacks: choice.fallbacks.map(toDestination) }),
            };
      // Recipient domains are few next to messages; the bound only guards a pathological list.
      if (cache.size >= MAX_CACHED_DOMAINS) cache.clear();
      cache.set(domain, { routing, expiresAtMs: now() + options.cacheTtlMs });
      return routing;
    },
  };
}
