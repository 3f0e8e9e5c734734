import { RelaisError, type TenantId } from '@relais/domain';
import { z } from 'zod';
import type { Submission, SubmissionSource } from '../handlers/submit-message';

const mailbox = z.union([
  z.string().min(3).max(320),
  z.object({ address: z.string().min(3).max(320), name: z.string().max(200).optional() }),
]);

/**
 * The body of `POST /v1/messages`, and what a gRPC `SendRequest` is read into: either a
 * whole RFC 5322 message in `raw`, or `from` + `subject` + `html` and/or `text` to build one.
 * `to` is the envelope: with `raw`, the message's own To/Cc are only what readers see.
 */
export const submissionRequestSchema = z
  .object({
    from: mailbox.optional(),
    to: z.array(z.string().min(3).max(320)).min(1).max(1000),
    replyTo: mailbox.optional(),
    subject: z.string().max(998).optional(),
    html: z.string().optional(),
    text: z.string().optional(),
    /** A whole message; LF line endings are taken as CRLF, a bare CR is refused. */
    raw: z.string().optional(),
    /** Extra header fields (printable ASCII); relais' own fields cannot be overridden. */
    headers: z.record(z.string(), z.string()).optional(),
    /** The first tag names the stream in Feedback-ID (e.g. `receipts`). */
    tags: z
      .array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'tags are [A-Za-z0-9._-]{1,64}' }))
      .max(10)
      .optional(),
    /** A retry with the same key returns the first submission's receipt and sends nothing twice. */
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .superRefine((body, ctx) => {
    const parts = ['from', 'replyTo', 'subject', 'html', 'text', 'headers'] as const;
    if (body.raw !== undefined) {
      for (const part of parts) {
        if (body[part] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [part], message: `give either raw or ${part}` });
        }
      }
      return;
    }
    if (body.from === undefined) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'from is required without raw' });
    }
    if (body.subject === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['subject'],
        message: 'subject is required without raw',
      });
    }
    if (body.html === undefined && body.text === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['html'],
        message: 'html or text is required without raw',
      });
    }
  });

/** A parsed request body. */
export type SubmissionRequest = z.output<typeof submissionRequestSchema>;

const asMailbox = (value: z.output<typeof mailbox>) =>
  typeof value === 'string' ? { address: value } : value;

/** The use case's input from a parsed request. */
export function submissionOf(
  tenantId: TenantId,
  source: SubmissionSource,
  body: SubmissionRequest,
): Submission {
  const common = {
    tenantId,
    source,
    recipients: body.to,
    tags: body.tags,
    idempotencyKey: body.idempotencyKey,
  };
  if (body.raw !== undefined) {
    // JSON callers write `\n`; there is no SMTP framing here to smuggle through, but a bare
    // CR is still refused: no reader agrees on what it means.
    const raw = Buffer.from(body.raw.replace(/\r?\n/g, '\r\n'), 'utf8');
    if (/\r(?!\n)/.test(raw.toString('latin1'))) {
      throw new RelaisError('VALIDATION_FAILED', 'raw contains a bare CR', {
        details: { pointer: '/raw' },
      });
    }
    return { ...common, content: { kind: 'raw', raw } };
  }
  return {
    ...common,
    content: {
      kind: 'parts',
      from: asMailbox(body.from!),
      replyTo: body.replyTo === undefined ? undefined : asMailbox(body.replyTo),
      subject: body.subject!,
      html: body.html,
      text: body.text,
      headers: body.headers,
    },
  };
}
