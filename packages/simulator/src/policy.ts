import { Greylist, TokenBuckets } from './limits';
import type { ProviderProfile } from './profile';
import { matchesDomain } from './profile';
import { addressScore, deriveSeed, seededRandom, type Clock, type Random } from './random';
import type { RefusalReason } from './replies';

/** What a provider will always answer for an address, whatever the attempt. */
export type RecipientClass = 'deliverable' | 'unknown_user' | 'mailbox_full';

/** `*` matches any run of characters; a pattern without `@` is matched against the local part. */
function compileAddressPatterns(patterns: readonly string[]): (address: string) => boolean {
  const compiled = patterns.map((pattern) => {
    const source = pattern
      .toLowerCase()
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return { regex: new RegExp(`^${source}$`), whole: pattern.includes('@') };
  });
  return (address) => {
    const lower = address.toLowerCase();
    const local = lower.slice(0, lower.lastIndexOf('@'));
    return compiled.some(({ regex, whole }) => regex.test(whole ? lower : local));
  };
}

const classifiers = new WeakMap<
  ProviderProfile,
  (address: string, seed: number) => RecipientClass
>();

/**
 * The fixed fate of an address at a provider: explicit lists first, then the rates drawn
 * from a hash of (seed, address). Exported so a demo can predict its own totals.
 */
export function classifyRecipient(
  profile: ProviderProfile,
  address: string,
  seed: number,
): RecipientClass {
  let classify = classifiers.get(profile);
  if (classify === undefined) {
    const unknown = compileAddressPatterns(profile.unknownUsers);
    const full = compileAddressPatterns(profile.fullMailboxes);
    classify = (candidate, withSeed) => {
      if (unknown(candidate)) return 'unknown_user';
      if (full(candidate)) return 'mailbox_full';
      if (addressScore(withSeed, 'unknown', candidate) < profile.unknownUserRate)
        return 'unknown_user';
      if (addressScore(withSeed, 'full', candidate) < profile.mailboxFullRate)
        return 'mailbox_full';
      return 'deliverable';
    };
    classifiers.set(profile, classify);
  }
  return classify(address, seed);
}

/** Everything a provider decides, with its state (connections, buckets, greylist); no I/O. */
export class ProviderPolicy {
  private readonly openByClient = new Map<string, number>();
  private readonly buckets: TokenBuckets | null;
  private readonly greylist: Greylist | null;
  private readonly latencyRandom: Random;
  private readonly failureRandom: Random;

  constructor(
    public profile: ProviderProfile,
    private readonly seed: number,
    clock: Clock,
    random?: Random,
  ) {
    const rate = profile.ratePerSecond;
    this.buckets =
      rate === null
        ? null
        : new TokenBuckets(rate, profile.rateBurst ?? Math.max(1, Math.ceil(rate)), clock);
    this.greylist = profile.greylist ? new Greylist(profile.greylistDelayMs, clock) : null;
    // Separate streams: drawing a latency must not shift which message fails next.
    this.latencyRandom = random ?? seededRandom(deriveSeed(seed, `${profile.name}/latency`));
    this.failureRandom = random ?? seededRandom(deriveSeed(seed, `${profile.name}/failure`));
  }

  /** A new connection from `clientIp`; when admitted it counts until `disconnected`. */
  connected(clientIp: string): RefusalReason | null {
    const open = this.openByClient.get(clientIp) ?? 0;
    const cap = this.profile.maxConnectionsPerClient;
    if (cap !== null && open >= cap) return 'too_many_connections';
    this.openByClient.set(clientIp, open + 1);
    return null;
  }

  /** An admitted connection from `clientIp` closed. */
  disconnected(clientIp: string): void {
    const open = (this.openByClient.get(clientIp) ?? 1) - 1;
    if (open <= 0) this.openByClient.delete(clientIp);
    else this.openByClient.set(clientIp, open);
  }

  /** Open connections from `clientIp` right now. */
  openConnections(clientIp: string): number {
    return this.openByClient.get(clientIp) ?? 0;
  }

  /**
   * One RCPT TO. The rate limit charges one token per message, at its first recipient:
   * a refused message costs the client nothing but the envelope, and a multi-recipient
   * message counts once, as providers meter messages.
   */
  recipient(input: {
    clientIp: string;
    sender: string;
    recipient: string;
    firstOfMessage: boolean;
    acceptedSoFar: number;
  }): RefusalReason | null {
    if (input.firstOfMessage && this.buckets !== null && !this.buckets.take(input.clientIp)) {
      return 'rate_limited';
    }
    const domain = input.recipient.slice(input.recipient.lastIndexOf('@') + 1);
    if (!this.profile.domains.some((pattern) => matchesDomain(pattern, domain))) {
      return 'relay_denied';
    }
    if (input.acceptedSoFar >= this.profile.maxRecipientsPerMessage) return 'too_many_recipients';
    const fate = classifyRecipient(this.profile, input.recipient, this.seed);
    if (fate !== 'deliverable') return fate;
    if (
      this.greylist !== null &&
      !this.greylist.admit(input.clientIp, input.sender, input.recipient)
    ) {
      return 'greylisted';
    }
    return null;
  }

  /** The end of DATA: a random transient failure at `tempFailureRate`, drawn per attempt. */
  message(): RefusalReason | null {
    return this.failureRandom() < this.profile.tempFailureRate ? 'temporary_failure' : null;
  }

  /** How long to wait before the next reply. */
  latencyMs(): number {
    const latency = this.profile.latencyMs;
    if (typeof latency === 'number') return latency;
    return Math.round(latency.min + this.latencyRandom() * (latency.max - latency.min));
  }
}
