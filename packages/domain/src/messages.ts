import { z } from 'zod';
import {
  CampaignIdSchema,
  ContactIdSchema,
  IpPoolNameSchema,
  MessageIdSchema,
  SegmentIdSchema,
  TemplateIdSchema,
} from './ids';

/**
 * Every event and command that crosses the bus, by envelope `type`. Events are named
 * `<entity>.<past verb>`; commands are imperative (`dispatch.batch`, `outbound.send`).
 * The bus validates `data` against this table when publishing and when consuming.
 */

const email = z.string().min(3).max(320);
const messageClass = z.enum(['marketing', 'transactional']);
const smtpReply = z.object({
  /** The three-digit reply code; absent when no reply was received (socket error, timeout). */
  code: z.number().int().min(200).max(599).optional(),
  /** RFC 3463 enhanced status code, e.g. `5.1.1`. */
  enhanced: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
    .optional(),
  /** The reply text, truncated by the sender to a safe length. */
  text: z.string().max(2000),
});

const campaignRef = z.object({ campaignId: CampaignIdSchema });

/**
 * A slice of a campaign: its messages to one mailbox provider (`providerOf` of the
 * recipient domain), through one IP pool, or both. At least one of the two is set.
 */
const sliceScope = z
  .object({
    provider: z.string().min(1).max(64).optional(),
    pool: z.string().min(1).max(64).optional(),
  })
  .refine((scope) => scope.provider !== undefined || scope.pool !== undefined, {
    message: 'a slice names a provider, a pool or both',
  });

/** One recipient of a campaign batch, as the segmentation service resolved it. */
const recipient = z.object({
  messageId: MessageIdSchema,
  contactId: ContactIdSchema,
  email,
  /** The A/B variant this recipient was assigned, and the template that variant sends. */
  variant: z.string().max(32),
  templateId: TemplateIdSchema,
  sendAt: z.iso.datetime().optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});

const deliveryBase = z.object({
  messageId: MessageIdSchema,
  campaignId: CampaignIdSchema.optional(),
  recipientDomain: z.string().max(255),
  pool: IpPoolNameSchema,
  attempt: z.number().int().min(1),
  reply: smtpReply.optional(),
});

export const MESSAGE_SCHEMAS = {
  /**
   * A campaign was launched; segmentation resolves its recipients. Variants and templates
   * are read from the store at that point, so the event stays small.
   */
  'campaign.launched': campaignRef.extend({
    segmentId: SegmentIdSchema,
    messageClass,
  }),
  /**
   * A campaign (or a slice of it) was paused by a user or by a circuit breaker. With a
   * `scope`, only the campaign's messages to that mailbox provider (`providerOf`) and/or
   * through that IP pool are held (by the relay); the campaign itself keeps sending.
   */
  'campaign.paused': campaignRef.extend({
    reason: z.string().max(500),
    scope: sliceScope.optional(),
  }),
  /** A paused campaign resumed; with a `scope`, only that paused slice did. */
  'campaign.resumed': campaignRef.extend({ scope: sliceScope.optional() }),
  /**
   * Command to the campaign service: pause this slice of a campaign. Sent by analytics when
   * a circuit breaker trips (a bounce or complaint rate above its threshold with statistical
   * confidence); the campaign service records the pause once (one active pause per slice)
   * and announces `campaign.paused`.
   */
  'campaign.pause': campaignRef.extend({
    scope: sliceScope,
    /** The breaker's metric, e.g. `bounce_rate` or `complaint_rate`. */
    metric: z.string().min(1).max(64),
    reason: z.string().min(1).max(500),
    /** The figures behind the decision (window, counts, rate, bound, threshold). */
    evidence: z.record(z.string(), z.unknown()).default({}),
  }),
  /** A campaign was cancelled; pending recipients are never sent. */
  'campaign.cancelled': campaignRef.extend({ reason: z.string().max(500).optional() }),
  /** Every recipient of a campaign reached a final state. */
  'campaign.completed': campaignRef,
  /** A batch of recipients for the dispatcher to render (hundreds per bus message). */
  'dispatch.batch': campaignRef.extend({
    batch: z.number().int().min(0),
    messageClass,
    recipients: z.array(recipient).min(1).max(1000),
  }),
  /** A rendered, signed message for the relay of pool `pool`. */
  'outbound.send': z.object({
    messageId: MessageIdSchema,
    campaignId: CampaignIdSchema.optional(),
    messageClass,
    pool: IpPoolNameSchema,
    mailFrom: z.string().max(320),
    rcptTo: email,
    /** The signed RFC 5322 message, base64 so any octet survives JSON. */
    rawBase64: z.string(),
    firstAttemptAt: z.iso.datetime(),
    attempt: z.number().int().min(1),
  }),
  /** The receiving server accepted the message (2xx). */
  'delivery.delivered': deliveryBase,
  /** A temporary failure (4xx, timeout); the relay retries after `retryAt`. */
  'delivery.deferred': deliveryBase.extend({ retryAt: z.iso.datetime(), reason: z.string() }),
  /** A permanent failure (5xx or a classified bounce). */
  'delivery.bounced': deliveryBase.extend({
    reason: z.string(),
    hard: z.boolean(),
    confidence: z.number().min(0).max(1),
  }),
  /** Retries ran out (maximum age reached); final. */
  'delivery.expired': deliveryBase,
  /**
   * A recipient complained about a message (an ARF feedback report, RFC 5965). By the time
   * it is published the contact is unsubscribed and the address suppressed. No address: the
   * contact id names the person.
   */
  'complaint.received': z.object({
    messageId: MessageIdSchema,
    /** Absent for mail submitted by another service (no campaign, no contact row). */
    campaignId: CampaignIdSchema.optional(),
    contactId: ContactIdSchema.optional(),
    /** Feedback-Type: abuse, fraud, virus, not-spam, other (RFC 5965 §7.3). */
    feedbackType: z.string().max(64),
    /** The report's User-Agent: the feedback loop that sent it. */
    userAgent: z.string().max(200).optional(),
  }),
  /** An address was added to the suppression list. */
  'suppression.added': z.object({
    email,
    reason: z.string().max(200),
    /**
     * What condemned it, when a bounce or a complaint did: a bounce reason of the classifier
     * (`userunknown`…), `soft_bounce_repeated` or `complaint`.
     */
    class: z.string().max(64).optional(),
    /** The classifier's confidence in `class` (1 for a complaint). */
    confidence: z.number().min(0).max(1).optional(),
  }),
  /** A recipient opened a message (pixel fetch); `machine` marks proxy/scanner opens. */
  'engagement.opened': z.object({ messageId: MessageIdSchema, machine: z.boolean() }),
  /** A recipient followed a tracked link. */
  'engagement.clicked': z.object({
    messageId: MessageIdSchema,
    url: z.url(),
    machine: z.boolean(),
  }),
  /** A recipient unsubscribed (RFC 8058 one-click or the confirmation page). */
  'engagement.unsubscribed': z.object({ messageId: MessageIdSchema, contactId: ContactIdSchema }),
  /**
   * A conversion the tenant reported (`POST /v1/conversions`), attributed to the message that
   * led to it: named by the caller (`message`), or the contact's last clicked (`click`) or
   * opened (`open`) message within the attribution window; `none` when no message qualified.
   */
  'engagement.converted': z.object({
    conversionId: z.uuid(),
    messageId: MessageIdSchema.optional(),
    campaignId: CampaignIdSchema.optional(),
    contactId: ContactIdSchema.optional(),
    attribution: z.enum(['message', 'click', 'open', 'none']),
    /** In the currency's major unit (12.5 is 12.50 EUR). */
    amount: z.number().min(0),
    /** ISO 4217, upper case. */
    currency: z.string().regex(/^[A-Z]{3}$/),
    occurredAt: z.iso.datetime(),
  }),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
/** The validated `data` of a message of type T. */
export type MessageData<T extends MessageType> = z.output<(typeof MESSAGE_SCHEMAS)[T]>;
/** What a publisher passes as `data` (before defaults are applied). */
export type MessageInput<T extends MessageType> = z.input<(typeof MESSAGE_SCHEMAS)[T]>;

export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(MESSAGE_SCHEMAS, type);
}
