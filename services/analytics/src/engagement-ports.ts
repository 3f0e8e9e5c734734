import type { CampaignId, ContactId, MessageId, TenantId } from '@relais/domain';
import type { EngagementVerdict } from './domain/machine-detection';

/** What tracking needs to know of a message before judging a request. */
export interface TrackedMessage {
  tenantId: TenantId;
  campaignId: CampaignId | null;
  /** When the relay reported it delivered; null while unknown. */
  deliveredAt: Date | null;
}

/** One open or click to record. */
export interface EngagementInput {
  messageId: MessageId;
  kind: 'open' | 'click';
  /** The click's link key; undefined for an open. */
  linkKey?: string | undefined;
  /** The click's target (in `engagement.clicked`). */
  target?: string | undefined;
  verdict: EngagementVerdict;
  userAgent: string;
  at: Date;
}

/** A click's target and the message's recent clicks, read before judging the click. */
export interface ClickContext {
  message: TrackedMessage;
  /** The target of the link key in the message's campaign; undefined when it has none. */
  target: string | undefined;
  /** Link keys of the message clicked since `since`. */
  recentLinkKeys: string[];
}

/** A conversion as `POST /v1/conversions` reports it, scoped to the caller's tenant. */
export interface ConversionInput {
  tenantId: TenantId;
  conversionId: string;
  idempotencyKey: string;
  messageId?: MessageId | undefined;
  contactId?: ContactId | undefined;
  campaignId?: CampaignId | undefined;
  amount: number;
  currency: string;
  occurredAt: Date;
  /** Opens and clicks older than this before `occurredAt` attribute nothing. */
  attributionWindowMs: number;
}

/** A stored conversion and how it was attributed. */
export interface Conversion {
  conversionId: string;
  messageId: MessageId | null;
  campaignId: CampaignId | null;
  contactId: ContactId | null;
  attribution: 'message' | 'click' | 'open' | 'none';
  amount: number;
  currency: string;
  occurredAt: Date;
  /** True when the idempotency key was used before: this is that conversion, unchanged. */
  replayed: boolean;
}

/** A campaign's engagement figures. */
export interface EngagementFigures {
  /** Messages the relays delivered. */
  delivered: number;
  opens: number;
  machineOpens: number;
  uniqueOpens: number;
  humanUniqueOpens: number;
  clicks: number;
  machineClicks: number;
  uniqueClicks: number;
  humanUniqueClicks: number;
  conversions: number;
  /** Sum of conversion amounts by currency. */
  revenue: Record<string, number>;
}

/** Where tracking, conversions and engagement figures are read and written. */
export interface EngagementStore {
  /** The message a pixel token names; undefined when it is gone (erased) or never existed. */
  trackedMessage(messageId: MessageId): Promise<TrackedMessage | undefined>;
  /** The message, the target of `linkKey` in its campaign and its clicks since `since`. */
  clickContext(
    messageId: MessageId,
    linkKey: string,
    since: Date,
  ): Promise<ClickContext | undefined>;
  /**
   * Records one open or click in ONE transaction: an engagement_events row (every replay
   * too), the message's first/human marks (set once), and `engagement.opened|clicked`
   * through the outbox. An `all-links` click also re-marks the burst it completes as
   * machine, and the human click mark is recomputed from what stays human.
   */
  record(message: TrackedMessage, input: EngagementInput, burstSince?: Date): Promise<void>;
  /**
   * Stores a conversion unless its idempotency key is known (then returns the stored one),
   * attributed to the given message (of this tenant), or to the contact's last clicked,
   * else last opened, message within the window; `engagement.converted` in the outbox.
   */
  recordConversion(input: ConversionInput): Promise<Conversion | 'unknown-message'>;
  /** A campaign's engagement figures; undefined for an unknown or foreign campaign. */
  engagementFigures(
    tenantId: TenantId,
    campaignId: CampaignId,
  ): Promise<EngagementFigures | undefined>;
}
