import type { HeaderValue, Headers } from './transport';

/**
 * The headers the consumer runtime reads and writes. A dead-lettered message explains
 * itself with the `x-relais-failure-*` and `x-relais-original-*` headers.
 */
export const BUS_HEADERS = {
  /** W3C trace context of the publishing span. */
  traceparent: 'traceparent',
  /** Handler attempts so far, starting at 1; a delayed retry carries the next number. */
  attempt: 'x-relais-attempt',
  /** RelaisError code of the failure that dead-lettered the message. */
  failureCode: 'x-relais-failure-code',
  /** Readable reason (zod's message for a schema failure). */
  failureReason: 'x-relais-failure-reason',
  /** The work queue whose consumer gave up on the message. */
  originalQueue: 'x-relais-original-queue',
  /** Where the message was first published; kept across retries through the requeue exchange. */
  originalExchange: 'x-relais-original-exchange',
  originalRoutingKey: 'x-relais-original-routing-key',
  /** ISO time of the dead-lettering. */
  failedAt: 'x-relais-failed-at',
  /** Epoch ms a delayed copy is due; earlier arrivals hop to another delay tier (DelayedRetry). */
  dueAt: 'x-relais-due-at',
} as const;

/** Longest failure reason kept in a header; zod reasons for huge payloads can be long. */
const MAX_REASON_CHARS = 2000;

/** Broker-owned headers: republishing them would confuse the broker's own dead-letter bookkeeping. */
const BROKER_HEADER = /^x-(death|first-death-|last-death-|delivery-count)/;

/** The attempt number a delivery carries (1 when absent or malformed). */
export function readAttempt(headers: Readonly<Headers>): number {
  const raw = headers[BUS_HEADERS.attempt];
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' ? Number.parseInt(raw, 10) : NaN;
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/** A header's value if it is a string. */
export function stringHeader(headers: Readonly<Headers>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Copies a delivery's headers for a republish, without the broker's own. */
export function republishHeaders(
  headers: Readonly<Headers>,
  extra: Record<string, HeaderValue>,
): Headers {
  const copy: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!BROKER_HEADER.test(name)) copy[name] = value;
  }
  return Object.assign(copy, extra);
}

/** Clips a failure reason to what a header should carry. */
export function clipReason(reason: string): string {
  return reason.length <= MAX_REASON_CHARS ? reason : `${reason.slice(0, MAX_REASON_CHARS - 1)}…`;
}
