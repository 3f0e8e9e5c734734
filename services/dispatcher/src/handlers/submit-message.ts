import { createEnvelope, RelaisError, type Envelope, type TenantId } from '@relais/domain';
import {
  buildMessage,
  checkAddress,
  prepareSubmittedMessage,
  signMessageAsync,
  verpAddress,
  type FeedbackId,
  type Mailbox,
} from '@relais/mail';
import { outboundEnvelopeId } from '../domain/envelope-ids';
import type { DispatcherLogEvent } from '../log-events';
import type { SubmissionPorts, SubmittedRow } from '../ports';

/** The dispatcher publishes a message's first attempt; the relay numbers its retries. */
const FIRST_ATTEMPT = 1;

/** The transport a submission came in by; logged, never trusted for anything. */
export type SubmissionSource = 'smtp' | 'http' | 'grpc';

/** What was submitted: a whole RFC 5322 message, or the parts relais builds one from. */
export type SubmissionContent =
  /** CRLF line endings already checked by the transport. */
  | { kind: 'raw'; raw: Buffer }
  /** Built like campaign mail by @relais/mail (one copy per recipient, its own To). */
  | {
      kind: 'parts';
      from: Mailbox;
      replyTo?: Mailbox | undefined;
      subject: string;
      html?: string | undefined;
      text?: string | undefined;
      headers?: Readonly<Record<string, string>> | undefined;
    };

/** One message another service hands relais, authenticated to a tenant. */
export interface Submission {
  tenantId: TenantId;
  source: SubmissionSource;
  recipients: readonly string[];
  content: SubmissionContent;
  /** The first one is the Feedback-ID's most specific field (the stream, e.g. `receipts`). */
  tags?: readonly string[] | undefined;
  idempotencyKey?: string | undefined;
}

/** What the caller is told once every recipient's message is on the bus. */
export interface SubmissionReceipt {
  submissionId: string;
  /** `state` is `queued` (published), or `suppressed` (the address or domain is suppressed). */
  messages: Array<{ id: string; to: string; messageIdHeader: string; state: string }>;
  /** True when the idempotency key named an earlier submission: nothing new was recorded. */
  replayed: boolean;
}

interface Composed {
  raw: Buffer;
  messageIdHeader: string;
}

/**
 * Records, signs and publishes a submitted transactional message: one `messages` row and one
 * `outbound.send` per recipient, on the transactional lane of the pool the routing picks.
 * Resolves only after the broker confirmed every publish, which is when a transport may
 * answer 250 / 202. Everything that can be refused for the message's own sake (addresses,
 * header shape, limits) is checked before anything is written. A replayed idempotency key
 * republishes the earlier rows still `queued` under the same envelope ids, which the relay
 * dedupes, so a client retrying after a lost reply sends nothing twice.
 */
export async function submitMessage(
  submission: Submission,
  ports: SubmissionPorts,
): Promise<SubmissionReceipt> {
  const { tenantId } = submission;
  const recipients = uniqueRecipients(submission.recipients, ports.limits.maxRecipients);
  if (
    submission.content.kind === 'raw' &&
    submission.content.raw.length > ports.limits.maxMessageBytes
  ) {
    throw new RelaisError(
      'PAYLOAD_TOO_LARGE',
      `the message exceeds the limit of ${ports.limits.maxMessageBytes} bytes`,
    );
  }
  const now = ports.now();
  const feedback: FeedbackId = {
    campaignId: submission.tags?.[0] ?? 'submission',
    tenantId,
    mailClass: 'transactional',
    senderId: ports.identity.feedbackSenderId,
  };
  const compose = composer(submission.content, ports, feedback, now);

  let submissionId = ports.newId();
  let rows: SubmittedRow[] = recipients.map((email) => ({
    messageId: ports.newId(),
    email,
    state: 'queued',
  }));
  // Built and signed before anything is written: building is where a malformed message is
  // refused.
  let composed = await compose(submissionId, rows);
  const recorded = await ports.store.record({
    tenantId,
    submissionId,
    idempotencyKey: submission.idempotencyKey,
    recipients: rows,
  });
  // The stored rows carry their states (suppressed ones are not sent); a replay's also their
  // own ids, which the copies must be built for.
  rows = recorded.rows;
  if (recorded.submissionId !== submissionId) {
    submissionId = recorded.submissionId;
    composed = await compose(submissionId, rows);
  }

  const firstAttemptAt = now.toISOString();
  const envelopes: Array<Envelope<'outbound.send'>> = [];
  for (const row of rows) {
    // Suppressed rows, and a replayed submission's rows that moved on (sent, bounced), are
    // not sent.
    if (row.state !== 'queued') continue;
    const message = composed.get(row.messageId)!;
    envelopes.push(
      createEnvelope({
        id: outboundEnvelopeId(row.messageId, FIRST_ATTEMPT),
        type: 'outbound.send',
        tenantId,
        occurredAt: now,
        data: {
          messageId: row.messageId,
          messageClass: 'transactional',
          pool: ports.route('transactional', row.email.slice(row.email.lastIndexOf('@') + 1)),
          mailFrom: verpAddress({
            messageId: row.messageId,
            bounceDomain: ports.identity.bounce.domain,
            secret: ports.identity.bounce.secret,
          }),
          rcptTo: row.email,
          rawBase64: message.raw.toString('base64'),
          firstAttemptAt,
          attempt: FIRST_ATTEMPT,
        },
      }),
    );
  }
  try {
    if (envelopes.length > 0) await ports.publish(envelopes);
  } catch (error) {
    // Without a key nobody can retry these rows: say so in their state. With one, a retry
    // finds them queued and publishes them again.
    if (submission.idempotencyKey === undefined) {
      await ports.store.markFailed(
        tenantId,
        rows.map((row) => row.messageId),
      );
    }
    throw error;
  }
  ports.logger.info(
    {
      'event.action': 'submission.accepted' satisfies DispatcherLogEvent,
      relais: {
        tenant_id: tenantId,
        submission_id: submissionId,
        source: submission.source,
        published: envelopes.length,
        replayed: recorded.replayed,
      },
    },
    'submitted message published',
  );
  return {
    submissionId,
    messages: rows.map((row) => ({
      id: row.messageId,
      to: row.email,
      messageIdHeader: composed.get(row.messageId)!.messageIdHeader,
      state: row.state,
    })),
    replayed: recorded.replayed,
  };
}

/**
 * Builds the signed message of each row. A whole message is prepared and signed once: its
 * copies differ only in the envelope (VERP MAIL FROM), which DKIM does not cover.
 */
function composer(
  content: SubmissionContent,
  ports: SubmissionPorts,
  feedbackId: FeedbackId,
  now: Date,
): (submissionId: string, rows: readonly SubmittedRow[]) => Promise<Map<string, Composed>> {
  const { identity } = ports;
  const sign = (raw: Buffer) => signMessageAsync(raw, identity.signers, { now });
  if (content.kind === 'raw') {
    return async (submissionId, rows) => {
      const prepared = prepareSubmittedMessage({
        raw: content.raw,
        submissionId,
        sendingDomain: identity.sendingDomain,
        feedbackId,
        date: now,
      });
      const signed = {
        raw: await sign(prepared.raw),
        messageIdHeader: prepared.messageIdHeader,
      };
      return new Map(rows.map((row) => [row.messageId, signed]));
    };
  }
  return async (_submissionId, rows) =>
    new Map(
      await Promise.all(
        rows.map(async (row): Promise<[string, Composed]> => {
          const built = buildMessage({
            messageId: row.messageId,
            from: content.from,
            to: { address: row.email },
            replyTo: content.replyTo,
            subject: content.subject,
            html: content.html,
            text: content.text,
            date: now,
            sendingDomain: identity.sendingDomain,
            bounce: identity.bounce,
            // Transactional: no List-Unsubscribe (a receipt must not offer to stop receipts).
            unsubscribe: null,
            feedbackId,
            headers: content.headers,
          });
          return [
            row.messageId,
            { raw: await sign(built.raw), messageIdHeader: built.messageIdHeader },
          ];
        }),
      ),
    );
}

/** Each address checked and normalized, duplicates dropped, the count limited. */
function uniqueRecipients(addresses: readonly string[], max: number): string[] {
  if (addresses.length === 0) {
    throw new RelaisError('VALIDATION_FAILED', 'a message needs at least one recipient');
  }
  const unique = [...new Set(addresses.map((address) => checkAddress(address, 'to')))];
  if (unique.length > max) {
    throw new RelaisError('VALIDATION_FAILED', `at most ${max} recipients per message`);
  }
  return unique;
}
