import { matchesPattern } from './destination';
import { PROVIDER_PROFILES, type ProviderProfile } from './provider-profiles';

/** A profile with its throttling patterns compiled once. */
export interface CompiledProfile extends ProviderProfile {
  readonly throttlePatterns: readonly RegExp[];
}

/** Where a destination's traffic is shaped: one controller per (IP pool × site). */
export interface Site {
  /** `google` for every Google-hosted domain; `default:<host>:<port>` for unknown providers. */
  name: string;
  profile: CompiledProfile;
}

/** A profile override from config: the name picks the profile, other fields replace its own. */
export type ProfileOverride = Partial<ProviderProfile> & { name: string };

/** The profiles in matching order, `default` last. */
export interface ProfileSet {
  readonly profiles: readonly CompiledProfile[];
  readonly fallback: CompiledProfile;
}

/**
 * The built-in profiles with config overrides applied: a known name replaces the given fields
 * of that profile, a new name adds a profile (matched before the built-in ones, so a
 * deployment can claim a host pattern for itself).
 */
export function compileProfiles(
  overrides: readonly ProfileOverride[] = [],
  base: readonly ProviderProfile[] = PROVIDER_PROFILES,
): ProfileSet {
  const byName = new Map(base.map((profile) => [profile.name, profile]));
  const added: ProviderProfile[] = [];
  for (const override of overrides) {
    const known = byName.get(override.name);
    if (known !== undefined) byName.set(override.name, { ...known, ...override });
    else added.push({ ...defaultOf(byName), mxHosts: [], domains: [], ...override });
  }
  const ordered = [...added, ...base.map((profile) => byName.get(profile.name) ?? profile)];
  const compiled = ordered.map(compile);
  const fallback = compiled.find((profile) => profile.name === 'default');
  if (fallback === undefined) throw new Error('provider profiles need a default profile');
  return { profiles: compiled.filter((profile) => profile !== fallback), fallback };
}

function defaultOf(byName: Map<string, ProviderProfile>): ProviderProfile {
  const fallback = byName.get('default');
  if (fallback === undefined) throw new Error('provider profiles need a default profile');
  return fallback;
}

function compile(profile: ProviderProfile): CompiledProfile {
  return {
    ...profile,
    throttlePatterns: profile.throttleReplies.map((source) => new RegExp(source, 'i')),
  };
}

/**
 * The site of a destination: the first profile one of whose MX patterns covers one of the
 * destination's hosts (in preference order), else the first whose domain patterns cover the
 * recipient domain, else a site of its own named after the best host (KumoMTA's MX rollup:
 * domains sharing that exchange share its limits).
 */
export function siteOf(
  set: ProfileSet,
  destination: { domain: string; hosts: readonly string[]; port: number },
): Site {
  const hosts = destination.hosts.map((host) => host.toLowerCase().replace(/\.$/, ''));
  for (const host of hosts) {
    const profile = set.profiles.find((candidate) =>
      candidate.mxHosts.some((pattern) => matchesPattern(pattern, host)),
    );
    if (profile !== undefined) return { name: profile.name, profile };
  }
  const byDomain = set.profiles.find((candidate) =>
    candidate.domains.some((pattern) => matchesPattern(pattern, destination.domain)),
  );
  if (byDomain !== undefined) return { name: byDomain.name, profile: byDomain };
  return {
    name: `default:${hosts[0] ?? destination.domain}:${destination.port}`,
    profile: set.fallback,
  };
}

/** True when a 4xx/5xx reply is the profile's way of saying "slow down". */
export function isThrottleReply(
  profile: CompiledProfile,
  reply: { code?: number | undefined; text: string },
): boolean {
  if (reply.code === 421) return true;
  if (reply.code === undefined || reply.code < 400) return false;
  return profile.throttlePatterns.some((pattern) => pattern.test(reply.text));
}
