import type { BounceReason } from '@relais/bounces';
import type { CampaignId, ContactId, EnvelopeId, MessageId, TenantId } from '@relais/domain';
import type { Logger } from '@relais/telemetry';

/** The recipient a message row was written for. */
export interface BouncedMessage {
  id: MessageId;
  tenantId: TenantId;
  campaignId: CampaignId;
  contactId: ContactId;
  email: string;
}

/** One classified bounce, as the `bounces` table keeps it. */
export interface BounceRecord {
  /** The id of the event that reported it: a redelivered event is recorded once. */
  id: EnvelopeId;
  tenantId: TenantId;
  messageId: MessageId;
  campaignId: CampaignId;
  email: string;
  source: 'smtp';
  reason: BounceReason;
  hard: boolean;
  confidence: number;
  /** The enhanced status code the classification used. */
  status: string | null;
  replyCode: number | null;
  /** The reply text, clipped. */
  diagnostic: string;
}

/** An address to add to the tenant's suppression list, with `suppression.added`. */
export interface SuppressionRequest {
  tenantId: TenantId;
  email: string;
  reason: string;
  /** Trace context the `suppression.added` event carries on. */
  traceparent: string | null;
}

/** What recording a bounce did. */
export type RecordOutcome =
  /** The bounce row is new; `suppressed` when the address was added (and announced) now. */
  | { kind: 'recorded'; suppressed: boolean }
  /** A bounce with this id exists: an earlier delivery of the event did everything. */
  | { kind: 'duplicate' };

/** The data this service reads and writes. */
export interface BounceStore {
  /** The tenant's message row, if any. */
  findMessage(tenantId: TenantId, messageId: MessageId): Promise<BouncedMessage | undefined>;
  /**
   * One transaction: the bounce row, and when `suppression` is given and the bounce is new,
   * the suppression (unless the address is already suppressed) with its `suppression.added`
   * in the outbox. Either all of it commits or none.
   */
  recordBounce(record: BounceRecord, suppression?: SuppressionRequest): Promise<RecordOutcome>;
}

/** Everything the bounce handler needs. */
export interface BounceProcessorPorts {
  bounces: BounceStore;
  logger: Logger;
}

/** One recipient the inbound listener accepted, with what its address says. */
export type InboundRecipient =
  /** A VERP address with a valid token: the message relais sent that this mail is about. */
  | { kind: 'verp'; address: string; messageId: MessageId }
  /** The feedback (ARF complaint) address. */
  | { kind: 'feedback'; address: string };

/** A message the inbound SMTP listener took in, as received (dot-unstuffed, CRLF lines). */
export interface InboundMail {
  /** MAIL FROM; `''` for the null sender that DSNs use. */
  mailFrom: string;
  recipients: InboundRecipient[];
  raw: Buffer;
  receivedAt: Date;
  remoteAddress: string;
}

/**
 * Where accepted mail goes. The listener replies 250 only once `onMessage` resolved, so an
 * implementation resolves only when the message is durable; a rejection is answered
 * 451 4.3.0 and the sender retries.
 */
export interface InboundMailSink {
  onMessage(mail: InboundMail): Promise<void>;
}
