import { createHash } from 'node:crypto';
import type { EnvelopeId } from '@relais/domain';

// A fixed namespace for relais outbound envelopes (a random v4, chosen once).
const OUTBOUND_NAMESPACE = Buffer.from('6f1c4a2e9b7d4c1f8a3e5d2b7c9f0e14', 'hex');

/**
 * The envelope id of the `outbound.send` of one message attempt: a name-based UUIDv5
 * (RFC 9562 §5.5) of the message id and the attempt. A redelivered batch re-renders the
 * message (new Date header, new DKIM `t=`), but its envelope keeps its id, so the relay's
 * dedupe by envelope id sends it once.
 */
export function outboundEnvelopeId(messageId: string, attempt: number): EnvelopeId {
  const hash = createHash('sha1')
    .update(OUTBOUND_NAMESPACE)
    .update(`${messageId.toLowerCase()}:${attempt}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` as EnvelopeId;
}
