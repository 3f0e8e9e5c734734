import { describe, expect, it } from 'vitest';
import { configProblems, loadConfig, redactConfig } from '@relais/config';
import { dispatcherConfigSchema } from './config';

const env = {
  SENDING_DOMAIN: 'Mail.Sender.test',
  BOUNCE_DOMAIN: 'bounces.sender.test',
  BOUNCE_SECRET: 'bounce-secret-of-at-least-32-bytes!!',
  UNSUBSCRIBE_BASE_URL: 'https://u.sender.test',
  UNSUBSCRIBE_SECRET: 'unsubscribe-secret-of-32-bytes-or-more',
  DKIM__RSA__PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnot shown\n-----END PRIVATE KEY-----',
  ROUTING__RULES: '[{"messageClass":"transactional","pool":"tx"}]',
};

describe('dispatcherConfigSchema', () => {
  it('reads nested settings and routing rules from the environment', () => {
    const config = loadConfig(dispatcherConfigSchema, { env, argv: [] });
    expect(config).toMatchObject({
      sendingDomain: 'mail.sender.test',
      dkim: { rsa: { selector: 'rsa1' }, ed25519: { selector: 'ed1' } },
      routing: { defaultPool: 'default', rules: [{ messageClass: 'transactional', pool: 'tx' }] },
      prefetch: 2,
    });
  });

  it('reads reputation classes of recipient domains and rules on them', () => {
    const config = loadConfig(dispatcherConfigSchema, {
      env: {
        ...env,
        ROUTING__DOMAIN_CLASSES: '{"Gmail.com":"strict","*.yahoo.com":"strict"}',
        ROUTING__RULES: '[{"messageClass":"marketing","reputation":"strict","pool":"warm"}]',
      },
      argv: [],
    });
    expect(config.routing).toMatchObject({
      domainClasses: { 'gmail.com': 'strict', '*.yahoo.com': 'strict' },
      rules: [{ messageClass: 'marketing', reputation: ['strict'], pool: 'warm' }],
    });
    expect(() =>
      loadConfig(dispatcherConfigSchema, {
        env: { ...env, ROUTING__DOMAIN_CLASSES: '{"gmail.com":"Not A Class"}' },
        argv: [],
      }),
    ).toThrow();
  });

  it('redacts secrets and private keys in the printed config', () => {
    const printed = JSON.stringify(
      redactConfig(loadConfig(dispatcherConfigSchema, { env, argv: [] })),
    );
    expect(printed).not.toContain('bytes');
    expect(printed).not.toContain('not shown');
    expect(printed).toContain('"bounceSecret":"[redacted]"');
    expect(printed).toContain('"privateKey":"[redacted]"');
  });

  it('refuses short token secrets and, in distributed mode, missing DKIM keys', () => {
    const distributed = {
      ...env,
      BOUNCE_SECRET: 'short',
      DKIM__RSA__PRIVATE_KEY: '',
      AMQP_URL: 'amqp://rabbit:5672',
      DATABASE_URL: 'postgres://pg:5432/relais',
    };
    let error: unknown;
    try {
      loadConfig(dispatcherConfigSchema, { env: distributed, argv: [] });
    } catch (caught) {
      error = caught;
    }
    expect(configProblems(error).map((problem) => problem.key)).toEqual(
      expect.arrayContaining(['bounceSecret', 'dkim.rsa.privateKey', 'dkim.ed25519.privateKey']),
    );
  });
});

describe('submission settings', () => {
  it('takes human units and leaves every transport off unless a port is set', () => {
    const config = loadConfig(dispatcherConfigSchema, {
      env: {
        ...env,
        SUBMISSION__SMTP__MAX_MESSAGE_BYTES: '1MB',
        SUBMISSION__RATE_LIMIT__RATE: '600/min',
      },
      argv: [],
    });
    expect(config.submission).toMatchObject({
      host: '127.0.0.1',
      smtp: { maxMessageBytes: 1_000_000, maxRecipients: 50, socketTimeout: 60_000 },
      http: {},
      grpc: {},
      rateLimit: { rate: { perSecond: 10 }, burst: 50 },
    });
    expect(config.submission.smtp.port).toBeUndefined();
  });

  it('refuses SMTP submission without a TLS key and certificate in distributed mode', () => {
    let error: unknown;
    try {
      loadConfig(dispatcherConfigSchema, {
        env: {
          ...env,
          AMQP_URL: 'amqp://127.0.0.1',
          DATABASE_URL: 'postgres://127.0.0.1/test',
          DKIM__ED25519__PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
          SUBMISSION__SMTP__PORT: '587',
        },
        argv: [],
      });
    } catch (caught) {
      error = caught;
    }
    expect(configProblems(error).map((problem) => problem.key)).toEqual(['submission.tls']);
  });
});
