import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReport, type ParsedReport } from '../src/index';
import { FIXTURES } from './helpers';

const FEEDBACK_TYPES: Record<string, string> = {
  abuse: 'Abuse',
  'auth-failure': 'AuthFailure',
  fraud: 'Fraud',
  'not-spam': 'NotSpam',
  other: 'Other',
  virus: 'Virus',
};
const AUTH_FAILURES: Record<string, string> = {
  adsp: 'Adsp',
  bodyhash: 'BodyHash',
  revoked: 'Revoked',
  signature: 'Signature',
  spf: 'Spf',
  dmarc: 'Dmarc',
};
const DELIVERY_RESULTS: Record<string, string> = {
  delivered: 'Delivered',
  spam: 'Spam',
  policy: 'Policy',
  reject: 'Reject',
  other: 'Other',
};

/** Our report in the shape of the mail-auth crate's `Feedback`, which the expected files dump. */
function toMailAuthShape(parsed: ParsedReport): Record<string, unknown> {
  const f = parsed.feedback!;
  const arrival = f.arrivalDate === undefined ? NaN : Date.parse(f.arrivalDate);
  return {
    feedback_type: FEEDBACK_TYPES[f.feedbackType] ?? 'Other',
    arrival_date: Number.isNaN(arrival) ? null : arrival / 1000,
    authentication_results: f.authenticationResults,
    incidents: f.incidents ?? 1,
    original_envelope_id: f.originalEnvelopeId ?? null,
    original_mail_from: f.originalMailFrom ?? null,
    original_rcpt_to: f.originalRcptTo ?? null,
    reported_domain: f.reportedDomains,
    reported_uri: f.reportedUris,
    reporting_mta: f.reportingMta ?? null,
    source_ip: f.sourceIp ?? null,
    user_agent: f.userAgent ?? null,
    version: f.version ?? 1,
    source_port: f.sourcePort ?? 0,
    auth_failure: f.authFailure === undefined ? 'Unspecified' : AUTH_FAILURES[f.authFailure],
    delivery_result:
      f.deliveryResult === undefined ? 'Unspecified' : DELIVERY_RESULTS[f.deliveryResult],
    dkim_adsp_dns: f.dkimAdspDns ?? null,
    dkim_canonicalized_body: f.dkimCanonicalizedBody ?? null,
    dkim_canonicalized_header: f.dkimCanonicalizedHeader ?? null,
    dkim_domain: f.dkimDomain ?? null,
    dkim_identity: f.dkimIdentity ?? null,
    dkim_selector: f.dkimSelector ?? null,
    dkim_selector_dns: f.dkimSelectorDns ?? null,
    spf_dns: f.spfDns ?? null,
    identity_alignment: f.identityAlignment === undefined ? 'Unspecified' : f.identityAlignment,
    // mail-auth dumps null for the attached message in all five; we do not keep message bodies.
    message: null,
    headers: parsed.originalHeadersFrom === 'text/rfc822-headers' ? parsed.originalHeaders : null,
  };
}

/**
 * Where we knowingly differ from mail-auth's dump. arf-003 carries
 * `Original-Rcpt-To: <user@example.com>`, which mail-auth drops; we keep the field the
 * report has.
 */
const DIVERGENCES: Record<string, Record<string, unknown>> = {
  'arf-003': { original_rcpt_to: '<user@example.com>' },
};

describe('ARF examples parse to their expected fields', () => {
  for (const name of ['arf-001', 'arf-002', 'arf-003', 'arf-004', 'arf-005']) {
    it(name, () => {
      const dir = join(FIXTURES, 'arf-examples');
      const parsed = parseReport(readFileSync(join(dir, `${name}.eml`)));
      expect(parsed.kind).toBe('feedback');
      const expected = JSON.parse(
        readFileSync(join(dir, `${name}.expected.json`), 'utf8'),
      ) as Record<string, unknown>;
      expect(toMailAuthShape(parsed)).toEqual({ ...expected, ...DIVERGENCES[name] });
    });
  }

  it('a complaint names the complained-about recipient', () => {
    const parsed = parseReport(readFileSync(join(FIXTURES, 'arf-examples', 'arf-002.eml')));
    expect(parsed.recipients).toEqual([{ address: 'user@example.com' }]);
    expect(parsed.feedback?.feedbackType).toBe('abuse');
  });
});
