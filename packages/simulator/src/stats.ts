import { replyKey, type RefusalReason } from './replies';
import type { DkimCheck } from './dkim';

/** What one provider saw since it started. */
export interface ProviderStats {
  provider: string;
  /** Connections admitted (refused ones are in `refusals.too_many_connections`). */
  connections: number;
  /** Connections open right now. */
  openConnections: number;
  messagesAccepted: number;
  /** Recipients of accepted messages. */
  recipientsAccepted: number;
  /** Size of accepted messages as received (before any header the simulator adds). */
  bytesAccepted: number;
  /** Refusals by reply, e.g. `{ '550 5.1.1': 3, '421 4.7.0': 1 }`. */
  rejectedByCode: Record<string, number>;
  /** Refusals by reason (421 4.7.0 is both `rate_limited` and `too_many_connections`). */
  refusals: Partial<Record<RefusalReason, number>>;
  /** 451 4.7.1 replies (first attempts and retries that came too early). */
  greylisted: number;
  /** Signatures on accepted messages by algorithm then result, e.g. `{ 'ed25519-sha256': { pass: 2 } }`. */
  dkim: Record<string, Record<string, number>>;
  /** Later bounces (DSNs) generated, and delivered when the simulator has a `returnPath`. */
  asyncBounces: number;
  /** Complaints (ARF reports) generated, and delivered when there is a `returnPath`. */
  complaints: number;
  /** Bounces and complaints the return-path host did not take. */
  feedbackFailures: number;
}

/** Mutable counters behind `ProviderStats`; `snapshot` hands out a copy. */
export class ProviderCounters {
  private readonly stats: ProviderStats;

  constructor(provider: string) {
    this.stats = {
      provider,
      connections: 0,
      openConnections: 0,
      messagesAccepted: 0,
      recipientsAccepted: 0,
      bytesAccepted: 0,
      rejectedByCode: {},
      refusals: {},
      greylisted: 0,
      dkim: {},
      asyncBounces: 0,
      complaints: 0,
      feedbackFailures: 0,
    };
  }

  connected(): void {
    this.stats.connections += 1;
    this.stats.openConnections += 1;
  }

  disconnected(): void {
    this.stats.openConnections -= 1;
  }

  refused(reason: RefusalReason): void {
    const key = replyKey(reason);
    this.stats.rejectedByCode[key] = (this.stats.rejectedByCode[key] ?? 0) + 1;
    this.stats.refusals[reason] = (this.stats.refusals[reason] ?? 0) + 1;
    if (reason === 'greylisted') this.stats.greylisted += 1;
  }

  accepted(recipients: number, sizeBytes: number, dkim: readonly DkimCheck[]): void {
    this.stats.messagesAccepted += 1;
    this.stats.recipientsAccepted += recipients;
    this.stats.bytesAccepted += sizeBytes;
    for (const check of dkim) {
      const byResult = (this.stats.dkim[check.algorithm] ??= {});
      byResult[check.result] = (byResult[check.result] ?? 0) + 1;
    }
  }

  feedback(kind: 'bounce' | 'complaint'): void {
    if (kind === 'bounce') this.stats.asyncBounces += 1;
    else this.stats.complaints += 1;
  }

  feedbackFailed(): void {
    this.stats.feedbackFailures += 1;
  }

  snapshot(): ProviderStats {
    return structuredClone(this.stats);
  }
}
