import { describe, expect, it } from 'vitest';
import { outboundEnvelopeId } from './envelope-ids';

const messageId = '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e';

describe('outboundEnvelopeId', () => {
  it('is the same for the same message and attempt, whatever the case of the id', () => {
    expect(outboundEnvelopeId(messageId, 1)).toBe(outboundEnvelopeId(messageId.toUpperCase(), 1));
  });

  it('differs between attempts and between messages', () => {
    const ids = new Set([
      outboundEnvelopeId(messageId, 1),
      outboundEnvelopeId(messageId, 2),
      outboundEnvelopeId('0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6f', 1),
    ]);
    expect(ids.size).toBe(3);
  });

  it('is a version 5 UUID of the RFC 9562 variant', () => {
    expect(outboundEnvelopeId(messageId, 1)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
