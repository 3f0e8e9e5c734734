import type { BounceRecord, SoftBouncePolicy, SuppressionRequest } from '../ports';

/** The suppression reason of an address whose soft bounces repeated within the window. */
export const SOFT_BOUNCE_REPEATED = 'soft_bounce_repeated';

/**
 * The suppression a soft bounce completes, given how many soft bounces of the address (this
 * one included) fall within the policy's window; none below the threshold. A mailbox full
 * for a week, or a server that refuses us day after day, is as good as gone, but one soft
 * bounce says nothing about the address.
 */
export function repeatedSoftBounceSuppression(
  record: BounceRecord,
  softBouncesInWindow: number,
  policy: SoftBouncePolicy,
  traceparent: string | null,
): SuppressionRequest | undefined {
  if (record.hard || policy.threshold === 0 || softBouncesInWindow < policy.threshold) {
    return undefined;
  }
  return {
    tenantId: record.tenantId,
    email: record.email,
    reason: SOFT_BOUNCE_REPEATED,
    class: SOFT_BOUNCE_REPEATED,
    confidence: record.confidence,
    traceparent,
  };
}
