import type { BounceReason } from '@relais/bounces';
import type { CampaignId, ContactId, EnvelopeId, MessageId, TenantId } from '@relais/domain';
import type { Logger } from '@relais/telemetry';

/** The recipient a message row was written for. */
export interface BouncedMessage {
  id: MessageId;
  tenantId: TenantId;
  /** Null for mail submitted by another service: no campaign, no contact row. */
  campaignId: CampaignId | null;
  contactId: ContactId | null;
  email: string;
}

/** One classified bounce, as the `bounces` table keeps it. */
export interface BounceRecord {
  /**
   * The id of what reported it (the `delivery.bounced` envelope, or the `inbound_reports`
   * row of a DSN): a redelivered event or a reprocessed report is recorded once.
   */
  id: EnvelopeId | string;
  tenantId: TenantId;
  messageId: MessageId;
  campaignId: CampaignId | null;
  email: string;
  /** `smtp`: the relay's reply (`delivery.bounced`); `dsn`: a later report to the return path. */
  source: 'smtp' | 'dsn';
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
  /** The classification behind it (`userunknown`, `soft_bounce_repeated`, `complaint`…). */
  class: string;
  confidence: number;
  /** Trace context the `suppression.added` event carries on. */
  traceparent: string | null;
}

/**
 * When soft bounces of one address add up to a suppression: `threshold` of them (this one
 * included) within `windowMs`. A threshold of 0 turns it off.
 */
export interface SoftBouncePolicy {
  threshold: number;
  windowMs: number;
}

/** What recording a bounce did. */
export type RecordOutcome =
  /**
   * The bounce row is new; `suppressed` says why the address was added (and announced) now:
   * a hard bounce, or the soft bounce that completed a repeated series. False otherwise.
   */
  | { kind: 'recorded'; suppressed: false | 'hard' | 'soft_bounce_repeated' }
  /** A bounce with this id exists: an earlier delivery of the event did everything. */
  | { kind: 'duplicate' };

/** The data this service reads and writes. */
export interface BounceStore {
  /** The tenant's message row, if any. */
  findMessage(tenantId: TenantId, messageId: MessageId): Promise<BouncedMessage | undefined>;
  /**
   * One transaction: the bounce row, and when `suppression` is given and the bounce is new,
   * the suppression (unless the address is already suppressed) with its `suppression.added`
   * in the outbox. A soft bounce that brings the address to the store's soft-bounce
   * threshold suppresses it too. Either all of it commits or none.
   */
  recordBounce(
    record: BounceRecord,
    suppression?: SuppressionRequest,
    /** Trace context of a suppression the soft-bounce count decides on. */
    traceparent?: string | null,
  ): Promise<RecordOutcome>;
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

/** An `inbound_reports` row the report worker claimed. */
export interface InboundReport {
  id: string;
  /** The tenant of the message the VERP recipient names; null for the feedback address. */
  tenantId: TenantId | null;
  /** From the VERP recipient (sealed by the dispatcher); null for the feedback address. */
  messageId: MessageId | null;
  rcptTo: string;
  mailFrom: string;
  raw: Buffer;
  receivedAt: Date;
}

/** A complaint to act on: the message it is about and what the report says. */
export interface ComplaintRecord {
  message: BouncedMessage;
  feedbackType: string;
  userAgent?: string | undefined;
  /** When the report was received: the time of the consent withdrawal. */
  at: Date;
}

/** What recording a complaint did. */
export interface ComplaintOutcome {
  /** The contact was active and is unsubscribed now (with a withdrawal in the ledger). */
  unsubscribed: boolean;
  /** The address was added to the suppression list now. */
  suppressed: boolean;
}

/**
 * What acting on one report may write, all inside the report worker's transaction (the one
 * that marks the report processed).
 */
export interface ReportActions {
  /** The message row of this id, whichever tenant owns it. */
  findMessage(messageId: MessageId): Promise<BouncedMessage | undefined>;
  /** As `BounceStore.recordBounce`, in the worker's transaction. */
  recordBounce(
    record: BounceRecord,
    suppression?: SuppressionRequest,
    traceparent?: string | null,
  ): Promise<RecordOutcome>;
  /**
   * The contact unsubscribed (status, consent, a withdrawal row in the consent ledger), the
   * address suppressed (reason `complaint`, with `suppression.added`) and
   * `complaint.received`, through the outbox.
   */
  recordComplaint(complaint: ComplaintRecord): Promise<ComplaintOutcome>;
}
