import { z } from 'zod';
import { RelaisError } from './errors';
import { EnvelopeIdSchema, TenantIdSchema, newId, type EnvelopeId, type TenantId } from './ids';
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
  return new ValidatedEnvelope(header.data, type, data.data) as Envelope;
}

/**
 * The class of envelopes this module validated. Instances are deeply frozen, so being one
 * proves the object still is what the schema accepted: the bus skips a second validation
 * of an envelope from `createEnvelope`, and the in-process transport hands the same object
 * to consumers without encoding and re-parsing it. A spread copy is a plain object again,
 * so it is validated anew. (A class check and a freeze cost a fraction of a WeakSet, whose
 * entries the garbage collector must also trace.)
 */
class ValidatedEnvelope {
  readonly id: EnvelopeId;
  readonly type: MessageType;
  readonly occurredAt: string;
  readonly tenantId: TenantId;
  readonly traceparent: string | null;
  readonly data: unknown;

  constructor(
    header: { id: EnvelopeId; occurredAt: string; tenantId: TenantId; traceparent: string | null },
    type: MessageType,
    data: unknown,
  ) {
    this.id = header.id;
    this.type = type;
    this.occurredAt = header.occurredAt;
    this.tenantId = header.tenantId;
    this.traceparent = header.traceparent;
    this.data = data;
    if (typeof data === 'object' && data !== null) deepFreeze(data);
    Object.freeze(this);
  }
}

function deepFreeze(value: object): void {
  Object.freeze(value);
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && !Object.isFrozen(child)) deepFreeze(child);
  }
}

/** True when `value` is an envelope that `parseEnvelope` / `createEnvelope` produced (and froze). */
export function isValidatedEnvelope(value: unknown): value is Envelope {
  return value instanceof ValidatedEnvelope;
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
