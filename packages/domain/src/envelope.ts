import { z } from 'zod';
import { RelaisError } from './errors';
import {
  EnvelopeIdSchema,
  TenantIdSchema,
  newId,
  type EnvelopeId,
  type TenantId,
} from './ids';
import {
  MESSAGE_SCHEMAS,
  isMessageType,
  type MessageData,
  type MessageInput,
  type MessageType,
} from './messages';

/** W3C trace-context `traceparent` header (version 00). */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

const EnvelopeHeaderSchema = z.object({
  id: EnvelopeIdSchema,
  type: z.string().min(1).max(100),
  occurredAt: z.iso.datetime({ offset: true }),
  tenantId: TenantIdSchema,
  traceparent: z.string().regex(TRACEPARENT).nullable(),
  data: z.unknown(),
});

/** The one JSON shape of every bus message. Consumers are idempotent by `id`. */
export interface Envelope<T extends MessageType = MessageType> {
  id: EnvelopeId;
  type: T;
  occurredAt: string;
  tenantId: TenantId;
  traceparent: string | null;
  data: MessageData<T>;
}

export interface NewEnvelope<T extends MessageType> {
  type: T;
  tenantId: TenantId | string;
  data: MessageInput<T>;
  /** Reuse an id to make a re-publish idempotent (e.g. an outbox row's id). */
  id?: EnvelopeId | string;
  occurredAt?: Date;
  traceparent?: string | null;
}

/** Builds and validates an envelope; throws MESSAGE_INVALID with a readable reason. */
export function createEnvelope<T extends MessageType>(input: NewEnvelope<T>): Envelope<T> {
  return parseEnvelope({
    id: input.id ?? newId<EnvelopeId>(),
    type: input.type,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
    tenantId: input.tenantId,
    traceparent: input.traceparent ?? null,
    data: input.data,
  }) as Envelope<T>;
}

/**
 * Validates an untrusted value as an envelope and its data against the schema of its type.
 * The error message names every offending field, so a dead-lettered message explains itself.
 */
export function parseEnvelope(raw: unknown): Envelope {
  const header = EnvelopeHeaderSchema.safeParse(raw);
  if (!header.success) {
    throw new RelaisError('MESSAGE_INVALID', `invalid envelope: ${z.prettifyError(header.error)}`);
  }
  const { type } = header.data;
  if (!isMessageType(type)) {
    throw new RelaisError('MESSAGE_UNKNOWN_TYPE', `unknown message type "${type}"`, {
      details: { type },
    });
  }
  const data = MESSAGE_SCHEMAS[type].safeParse(header.data.data);
  if (!data.success) {
    throw new RelaisError(
      'MESSAGE_INVALID',
      `invalid ${type} data: ${z.prettifyError(data.error)}`,
      { details: { type, envelopeId: header.data.id } },
    );
  }
  return { ...header.data, type, data: data.data };
}

/** Parses JSON bytes into a validated envelope; malformed JSON is MESSAGE_INVALID. */
export function decodeEnvelope(bytes: Buffer | Uint8Array | string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new RelaisError('MESSAGE_INVALID', 'message body is not valid JSON', { cause: error });
  }
  return parseEnvelope(raw);
}

export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}
