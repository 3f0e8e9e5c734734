import { RelaisError, type TenantId } from '@relais/domain';
import {
  addTracking,
  buildMessage,
  type BuiltMessage,
  signMessageAsync,
  unsubscribeUrl,
  type DkimSigner,
  type TrackedLink,
  type UnsubscribeOptions,
} from '@relais/mail';
import type { AttributeValue, CompiledTemplate, RenderedMessage } from '@relais/templates';
import type { MessageClass } from './pool-routing';

/** What every message of a campaign shares, as the store holds it. */
export interface CampaignInfo {
  id: string;
  tenantId: TenantId;
  name: string;
  status: string;
  messageClass: MessageClass;
  fromEmail: string;
  fromName: string | null;
  replyTo: string | null;
}

/** The per-process mail identity: domains, secrets and signing keys, fixed at start. */
export interface MailIdentity {
  sendingDomain: string;
  bounce: { domain: string; secret: string };
  unsubscribe: UnsubscribeOptions;
  feedbackSenderId: string;
  /** Every message carries one signature per signer (RSA-2048 and Ed25519). */
  signers: readonly DkimSigner[];
  /** Open and click tracking of campaign mail; absent: no message is tracked. */
  tracking?: { baseUrl: string; secret: string } | undefined;
}

/** One recipient of a batch, as `dispatch.batch` carries it. */
export interface RecipientInput {
  messageId: string;
  email: string;
  attributes: Readonly<Record<string, unknown>>;
}

/** A rendered, signed message and its SMTP envelope. */
export interface ComposedMessage {
  raw: Buffer;
  mailFrom: string;
  rcptTo: string;
  /** The targets of the tracked links (empty when the message is not tracked). */
  links: TrackedLink[];
}

/** What composing one recipient's message gave. */
export type ComposeOutcome =
  /** Rendered, built and signed. */
  | { ok: true; message: ComposedMessage }
  /**
   * `render`: the template broke a limit on this recipient's data; `build`: the message could
   * not be built (the address is not one plain mailbox). Either way `VALIDATION_FAILED`.
   */
  | { ok: false; stage: 'render' | 'build'; error: RelaisError };

/**
 * Renders, builds and signs one recipient's message. A `VALIDATION_FAILED` (template limit,
 * unusable address) is an outcome: the recipient's data, not the moment, is at fault, so the
 * caller fails that message alone. Anything else is a bug or an outage and is thrown.
 * Personalized text reaches headers only through @relais/mail, which cleans and encodes it.
 */
export async function composeMessage(
  campaign: CampaignInfo,
  template: CompiledTemplate,
  recipient: RecipientInput,
  identity: MailIdentity,
  now: Date,
  /** The recipient's consent and the tenant's policy allow tracking (see trackingAllowed). */
  tracked = false,
): Promise<ComposeOutcome> {
  // Transactional mail has no List-Unsubscribe: RFC 8058 one-click is for bulk mail, and a
  // receipt or password reset must not offer to stop them.
  const unsubscribe = campaign.messageClass === 'marketing' ? identity.unsubscribe : null;
  let rendered: RenderedMessage;
  try {
    rendered = template.render({
      contact: {
        email: recipient.email,
        // Bus data is parsed JSON, so every value already is an AttributeValue.
        attributes: recipient.attributes as Readonly<Record<string, AttributeValue>>,
      },
      campaign: { name: campaign.name },
      unsubscribeUrl:
        unsubscribe === null
          ? undefined
          : unsubscribeUrl({
              baseUrl: unsubscribe.baseUrl,
              messageId: recipient.messageId,
              secret: unsubscribe.secret,
            }),
    });
  } catch (error) {
    return failure('render', error);
  }
  // Only the HTML part is tracked: a plain-text reader sees the URL itself, and an opaque
  // redirect there reads as phishing. Text clicks are not counted; text links stay direct.
  let html = rendered.html;
  let links: TrackedLink[] = [];
  if (tracked && identity.tracking !== undefined && html !== undefined) {
    const tracking = addTracking(html, {
      baseUrl: identity.tracking.baseUrl,
      messageId: recipient.messageId,
      secret: identity.tracking.secret,
      now,
      keep: unsubscribe === null ? [] : [unsubscribe.baseUrl],
      recipient: recipient.email,
    });
    html = tracking.html;
    links = tracking.links;
  }
  let built: BuiltMessage;
  try {
    built = buildMessage({
      messageId: recipient.messageId,
      from: { address: campaign.fromEmail, name: campaign.fromName ?? undefined },
      to: { address: recipient.email },
      replyTo: campaign.replyTo === null ? undefined : { address: campaign.replyTo },
      subject: rendered.subject,
      html,
      text: rendered.text,
      date: now,
      sendingDomain: identity.sendingDomain,
      bounce: identity.bounce,
      unsubscribe,
      feedbackId: {
        campaignId: campaign.id,
        tenantId: campaign.tenantId,
        mailClass: campaign.messageClass === 'marketing' ? 'bulk' : 'transactional',
        senderId: identity.feedbackSenderId,
      },
    });
  } catch (error) {
    return failure('build', error);
  }
  return {
    ok: true,
    message: {
      raw: await signMessageAsync(built.raw, identity.signers, { now }),
      mailFrom: built.envelopeFrom,
      rcptTo: built.envelopeTo,
      links,
    },
  };
}

function failure(stage: 'render' | 'build', error: unknown): ComposeOutcome {
  if (error instanceof RelaisError && error.code === 'VALIDATION_FAILED') {
    return { ok: false, stage, error };
  }
  throw error;
}
