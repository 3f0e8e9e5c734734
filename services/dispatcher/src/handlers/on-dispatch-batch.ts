import { createEnvelope, type Envelope } from '@relais/domain';
import type { TrackedLink } from '@relais/mail';
import { composeMessage } from '../domain/compose-message';
import type { TemplateEntry } from '../domain/compiled-templates';
import { outboundEnvelopeId } from '../domain/envelope-ids';
import type { DispatcherLogEvent } from '../log-events';
import type { DispatcherPorts, FailedRecipient, RecipientFailure } from '../ports';

/** The dispatcher publishes a message's first attempt; the relay numbers its retries. */
const FIRST_ATTEMPT = 1;

// Rendering and building 500 recipients in one go would hold the event loop for a good part
// of a second, starving bus heartbeats and health probes: they go in slices, yielding in
// between, and each slice's signatures are on the thread pool at once.
const SLICE = 25;

/**
 * Renders, signs and publishes one `outbound.send` per recipient of a batch.
 *
 * Publishing is direct (`publishMany`, resolved on broker confirms), not through the
 * outbox. The outbox would write every signed message (5–50 KB each) into the database and
 * read it back, doubling the store's write volume for no gain: this handler changes no
 * state when it succeeds, so there is no state change to make atomic with the publish. What
 * matters is that a crash loses nobody and duplicates stay harmless:
 * - the batch is acked only after every confirm, so a crash at any point redelivers it and
 *   every recipient still `queued` is rendered and published again;
 * - each envelope id is derived from (message id, attempt), so the copies of a redelivered
 *   batch carry the ids of the first and the relay's dedupe by envelope id drops them.
 * Messages stay `queued` here: `sent` means the receiver accepted it, which only the relay
 * knows. Recipients that cannot be rendered are marked `failed` and the rest go on.
 */
export async function onDispatchBatch(
  envelope: Envelope<'dispatch.batch'>,
  ports: DispatcherPorts,
): Promise<void> {
  const { tenantId, data } = envelope;
  const relais = { tenant_id: tenantId, campaign_id: data.campaignId, batch: data.batch };
  const action = (code: DispatcherLogEvent) => ({ 'event.action': code });

  const campaign = await ports.store.loadCampaign(tenantId, data.campaignId);
  if (campaign === undefined) {
    // Also what a batch naming another tenant's campaign finds: nothing to reveal or do.
    ports.logger.warn({ ...action('dispatcher.batch_skipped'), relais }, 'campaign not found');
    return;
  }
  const messageIds = data.recipients.map((recipient) => recipient.messageId);
  if (campaign.status === 'cancelled') {
    const cancelled = await ports.store.markCancelled(tenantId, messageIds);
    ports.logger.info(
      { ...action('dispatcher.batch_cancelled'), relais: { ...relais, cancelled } },
      'batch of a cancelled campaign dropped',
    );
    return;
  }
  const queued = await ports.store.queuedMessages(tenantId, messageIds);
  const recipients = data.recipients.filter((recipient) => queued.has(recipient.messageId));
  const skipped = data.recipients.length - recipients.length;
  if (recipients.length === 0) {
    ports.logger.info(
      { ...action('dispatcher.batch_skipped'), relais: { ...relais, skipped } },
      'no recipient of the batch is still queued',
    );
    return;
  }

  const templateIds = [...new Set(recipients.map((recipient) => recipient.templateId))];
  const templates = new Map<string, TemplateEntry>();
  for (const stored of await ports.store.loadTemplates(tenantId, templateIds)) {
    templates.set(stored.id, ports.templates.get(stored));
  }

  // Tracking is decided per recipient at render time, from the consent ledger's latest state.
  const tracked =
    ports.identity.tracking === undefined
      ? new Set<string>()
      : await ports.store.trackedMessages(
          tenantId,
          recipients.map((recipient) => recipient.messageId),
        );
  const links = new Map<string, TrackedLink>();

  const now = ports.now();
  const firstAttemptAt = now.toISOString();
  const envelopes: Array<Envelope<'outbound.send'>> = [];
  const failures: FailedRecipient[] = [];
  for (let start = 0; start < recipients.length; start += SLICE) {
    if (start > 0) await yieldToEventLoop();
    // A slice's signatures run on libuv's thread pool side by side.
    const slice = recipients.slice(start, start + SLICE);
    const outcomes = await Promise.all(
      slice.map(async (recipient) => {
        const template = templates.get(recipient.templateId);
        if (template === undefined || !template.ok) {
          return template === undefined
            ? ('template_missing' as const)
            : ('template_invalid' as const);
        }
        return composeMessage(
          campaign,
          template.template,
          recipient,
          ports.identity,
          now,
          tracked.has(recipient.messageId),
        );
      }),
    );
    for (const [index, outcome] of outcomes.entries()) {
      const recipient = slice[index]!;
      if (typeof outcome === 'string') {
        failures.push({ messageId: recipient.messageId, reason: outcome });
        continue;
      }
      if (!outcome.ok) {
        const reason = outcome.stage === 'render' ? 'render_failed' : 'build_failed';
        failures.push({ messageId: recipient.messageId, reason });
        continue;
      }
      const { message } = outcome;
      for (const link of message.links) links.set(link.key, link);
      const pool = ports.route(campaign.messageClass, domainOf(message.rcptTo));
      envelopes.push(
        createEnvelope({
          id: outboundEnvelopeId(recipient.messageId, FIRST_ATTEMPT),
          type: 'outbound.send',
          tenantId,
          traceparent: envelope.traceparent,
          occurredAt: now,
          data: {
            messageId: recipient.messageId,
            campaignId: campaign.id,
            messageClass: campaign.messageClass,
            pool,
            mailFrom: message.mailFrom,
            rcptTo: message.rcptTo,
            rawBase64: message.raw.toString('base64'),
            firstAttemptAt,
            attempt: FIRST_ATTEMPT,
          },
        }),
      );
    }
  }

  // Failed ones first: if the publish then fails, the redelivery skips them (no longer
  // queued) and retries only the others.
  await ports.store.markFailed(tenantId, failures);
  if (failures.length > 0) {
    ports.logger.warn(
      {
        ...action('dispatcher.recipients_failed'),
        relais: { ...relais, failed: failures.length, reasons: countReasons(failures) },
      },
      'recipients failed to render and were marked failed',
    );
  }
  // Before the publish: a recipient can click as soon as the relay delivers.
  await ports.store.saveLinks(tenantId, campaign.id, [...links.values()]);
  if (envelopes.length > 0) await ports.publish(envelopes);
  ports.logger.info(
    {
      ...action('dispatcher.batch_dispatched'),
      relais: { ...relais, published: envelopes.length, failed: failures.length, skipped },
    },
    'batch dispatched',
  );
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

function countReasons(
  failures: readonly FailedRecipient[],
): Partial<Record<RecipientFailure, number>> {
  const counts: Partial<Record<RecipientFailure, number>> = {};
  for (const { reason } of failures) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
