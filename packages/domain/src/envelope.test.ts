import { describe, expect, it } from 'vitest';
import { RelaisError } from './errors';
import {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  isValidatedEnvelope,
  parseEnvelope,
} from './envelope';

const tenantId = '8a6e0804-2bd0-4672-b79d-d97027f9fc0b';
const campaignId = '0f4d5bd1-7c1e-4c38-9a43-1b6a2a8b8e6f';

function launched() {
  return createEnvelope({
    type: 'campaign.launched',
    tenantId,
    data: {
      campaignId,
      segmentId: '4b7f3c1a-3d0e-4f5e-9a1b-2c3d4e5f6a7b',
      messageClass: 'marketing',
    },
  });
}

describe('envelope', () => {
  it('round-trips through JSON bytes with its validated data', () => {
    const envelope = launched();
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual(envelope);
    expect(decoded.type).toBe('campaign.launched');
    expect(decoded.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('refuses a payload that does not match its type and names the field', () => {
    const raw = { ...launched(), data: { campaignId, messageClass: 'newsletter' } };
    let error: unknown;
    try {
      parseEnvelope(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RelaisError);
    const relaisError = error as RelaisError;
    expect(relaisError.code).toBe('MESSAGE_INVALID');
    expect(relaisError.retryable).toBe(false);
    expect(relaisError.message).toContain('campaign.launched');
    expect(relaisError.message).toContain('messageClass');
    expect(relaisError.message).toContain('segmentId');
  });

  it('refuses an unknown type with its own code', () => {
    expect(() => parseEnvelope({ ...launched(), type: 'campaign.exploded' })).toThrow(
      expect.objectContaining({ code: 'MESSAGE_UNKNOWN_TYPE' }),
    );
  });

  it('refuses bytes that are not JSON', () => {
    expect(() => decodeEnvelope(Buffer.from('{not json'))).toThrow(
      expect.objectContaining({
        code: 'MESSAGE_INVALID',
        message: 'message body is not valid JSON',
      }),
    );
  });

  it('refuses a malformed traceparent and a non-uuid tenant', () => {
    expect(() => parseEnvelope({ ...launched(), traceparent: 'abc' })).toThrow(/traceparent/);
    expect(() => parseEnvelope({ ...launched(), tenantId: 'acme' })).toThrow(/tenantId/);
  });

  it('keeps a caller-given id so a re-publish stays idempotent', () => {
    const id = '11111111-2222-4333-8444-555555555555';
    const envelope = createEnvelope({
      id,
      type: 'campaign.resumed',
      tenantId,
      data: { campaignId },
    });
    expect(envelope.id).toBe(id);
  });
});

describe('validated envelopes', () => {
  it('are deeply frozen and recognized, while a spread copy must be validated again', () => {
    const envelope = launched();
    expect(isValidatedEnvelope(envelope)).toBe(true);
    expect(Object.isFrozen(envelope)).toBe(true);
    expect(Object.isFrozen(envelope.data)).toBe(true);
    expect(() => {
      (envelope.data as { messageClass: string }).messageClass = 'transactional';
    }).toThrow(TypeError);
    const copy = { ...envelope, data: { ...envelope.data, messageClass: 'newsletter' } };
    expect(isValidatedEnvelope(copy)).toBe(false);
    expect(() => parseEnvelope(copy)).toThrow(/messageClass/);
  });

  it('survive JSON encoding unchanged', () => {
    const envelope = launched();
    expect(JSON.parse(encodeEnvelope(envelope).toString('utf8'))).toEqual({ ...envelope });
  });
});
