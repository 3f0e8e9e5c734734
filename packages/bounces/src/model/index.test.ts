import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadReasonModel, predictReason } from './index';

describe('predictReason', () => {
  it('loads the shipped model once', () => {
    const model = loadReasonModel();
    expect(model.version).toBe(1);
    expect(model.reasons).toContain('userunknown');
    expect(model.bias).toHaveLength(model.reasons.length);
    expect(loadReasonModel()).toBe(model);
  });

  it('ships a data file under 300 KB that records how it cross-validated', () => {
    const file = new URL('../../data/reason-model.json', import.meta.url);
    expect(statSync(file).size).toBeLessThan(300 * 1024);
    const { training } = loadReasonModel();
    expect(training.folds).toBe(10);
    expect(training.crossValidatedAccuracy).toBeGreaterThan(0.5);
    expect(training.trainingAccuracy).toBeGreaterThanOrEqual(training.crossValidatedAccuracy);
  });

  it.each([
    [{ diagnostic: 'mailbox full' }, 'mailboxfull'],
    [{ diagnostic: 'Storage quota exceeded' }, 'mailboxfull'],
    [
      { diagnostic: '550 5.1.1 <alice@example.com>... User unknown', command: 'RCPT' },
      'userunknown',
    ],
    [
      {
        diagnostic:
          '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      },
      'userunknown',
    ],
    [
      { diagnostic: '550-5.1.1 The email account that you tried to reach does not exist.' },
      'userunknown',
    ],
    [{ diagnostic: '550 5.2.1 The email account that you tried to reach is disabled.' }, 'suspend'],
    [
      { diagnostic: 'Message expired: unable to deliver in 840 minutes', status: '4.4.7' },
      'expired',
    ],
    [
      {
        diagnostic: 'Host or domain name not found. Name service error for name=a.example type=MX',
      },
      'hostunknown',
    ],
    [
      { diagnostic: '550 5.7.1 Message rejected as spam by Content Filtering', command: 'DATA' },
      'spamdetected',
    ],
    [
      {
        diagnostic: '550 5.7.26 Unauthenticated email: DMARC verification failed, SPF hard fail',
        status: '5.7.26',
        replyCode: 550,
      },
      'authfailure',
    ],
  ])('reads %j as %s', (input, reason) => {
    expect(predictReason(input).reason).toBe(reason);
  });

  // Stacked on the rules: the rules' verdict is one of the features, and on ordinary wording
  // the model follows it (Sisimai's "user unknown after DATA is filtered" included).
  it.each([
    [{ diagnostic: '550 user unknown', command: 'RCPT', rule: 'userunknown' }, 'userunknown'],
    [{ diagnostic: '550 user unknown', command: 'DATA', rule: 'filtered' }, 'filtered'],
    [{ diagnostic: '552 5.2.2 mailbox full', rule: 'mailboxfull' }, 'mailboxfull'],
  ])('follows the rules on %j', (input, reason) => {
    expect(predictReason(input).reason).toBe(reason);
  });

  it('ranks every reason with probabilities that sum to 1', () => {
    const prediction = predictReason({ diagnostic: 'something nobody has ever written' });
    const total = prediction.ranked.reduce((sum, r) => sum + r.probability, 0);
    expect(total).toBeCloseTo(1, 9);
    expect(prediction.ranked).toHaveLength(loadReasonModel().reasons.length);
    expect(prediction.ranked[0]).toEqual({
      reason: prediction.reason,
      probability: prediction.probability,
    });
    const probabilities = prediction.ranked.map((r) => r.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
  });
});
