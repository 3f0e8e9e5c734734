import type { Envelope, TenantId } from '@relais/domain';
import type { TrackedLink } from '@relais/mail';
import type { Logger } from '@relais/telemetry';
import type { CampaignInfo, MailIdentity } from './domain/compose-message';
import type { CompiledTemplates, StoredTemplate } from './domain/compiled-templates';
import type { PoolRouter } from './domain/pool-routing';

/** Why one recipient of a batch was not sent; stored as the message's failure. */
export type RecipientFailure =
  /** The variant's template no longer exists (deleted after launch) or belongs elsewhere. */
  | 'template_missing'
  /** The stored template does not compile (saved before a check existed). */
  | 'template_invalid'
  /** Rendering broke a template limit (time, allocations) for this recipient's data. */
  | 'render_failed'
  /** The message could not be built: the address is not one plain mailbox, for instance. */
  | 'build_failed';

/** One recipient the dispatcher gave up on, with why. */
export interface FailedRecipient {
  messageId: string;
  reason: RecipientFailure;
}

/**
 * What the dispatcher reads and writes in the store. Reads are scoped by tenant, so a batch
 * naming another tenant's campaign or templates finds nothing.
 */
export interface DispatchStore {
  /** The campaign of a batch, or undefined when the tenant has no such campaign. */
  loadCampaign(tenantId: TenantId, campaignId: string): Promise<CampaignInfo | undefined>;
  /** The tenant's templates among `ids`; absent ids are simply missing from the result. */
  loadTemplates(tenantId: TenantId, ids: readonly string[]): Promise<StoredTemplate[]>;
  /** Those of `messageIds` still in state `queued` (a redelivery skips failed or sent ones). */
  queuedMessages(tenantId: TenantId, messageIds: readonly string[]): Promise<Set<string>>;
  /**
   * Those of `messageIds` whose recipient may be tracked: the tenant's `tracking_policy`
   * applied to the contact's current `tracking` consent (the ledger's latest decision).
   */
  trackedMessages(tenantId: TenantId, messageIds: readonly string[]): Promise<Set<string>>;
  /**
   * Records the targets of a campaign's tracked links (a key already known keeps its row).
   * Called before the messages are published, so no click can find its link missing.
   */
  saveLinks(tenantId: TenantId, campaignId: string, links: readonly TrackedLink[]): Promise<void>;
  /** Moves these messages from `queued` to `failed`, in one statement. */
  markFailed(tenantId: TenantId, failures: readonly FailedRecipient[]): Promise<void>;
  /** Moves still-`queued` messages of a cancelled campaign to `cancelled`. */
  markCancelled(tenantId: TenantId, messageIds: readonly string[]): Promise<number>;
}

/**
 * Hands rendered messages to the relays. Resolves once the bus took responsibility for every
 * envelope (publisher confirms); a rejection fails the batch, which is then redelivered.
 */
export type OutboundPublisher = (envelopes: Array<Envelope<'outbound.send'>>) => Promise<void>;

/** Everything a dispatcher handler needs. */
export interface DispatcherPorts {
  store: DispatchStore;
  publish: OutboundPublisher;
  templates: CompiledTemplates;
  identity: MailIdentity;
  route: PoolRouter;
  /** The Date header, DKIM `t=` and `firstAttemptAt` of the messages built now. */
  now: () => Date;
  logger: Logger;
}

/** One recipient row of a submitted message. */
export interface SubmittedRow {
  messageId: string;
  email: string;
  state: string;
}

/** The rows a submission has, and whether an earlier submission with its key made them. */
export interface RecordedSubmission {
  submissionId: string;
  rows: SubmittedRow[];
  /** True when the idempotency key was seen before: the rows are that submission's. */
  replayed: boolean;
}

/** Where submitted transactional messages are recorded (one `messages` row per recipient). */
export interface SubmissionStore {
  /**
   * Inserts one `queued` row per recipient, or, when the tenant already used the
   * idempotency key, returns the rows of that earlier submission and inserts nothing.
   */
  record(input: {
    tenantId: TenantId;
    submissionId: string;
    idempotencyKey?: string | undefined;
    recipients: ReadonlyArray<{ messageId: string; email: string }>;
  }): Promise<RecordedSubmission>;
  /** Moves still-`queued` rows to `failed` (their publish failed and nobody will retry it). */
  markFailed(tenantId: TenantId, messageIds: readonly string[]): Promise<void>;
}

/** Everything the submission use case needs, whatever transport brought the message. */
export interface SubmissionPorts {
  store: SubmissionStore;
  publish: OutboundPublisher;
  identity: MailIdentity;
  route: PoolRouter;
  limits: { maxRecipients: number; maxMessageBytes: number };
  now: () => Date;
  newId: () => string;
  logger: Logger;
}
