import { describe, expect, it } from 'vitest';
import { printEffectiveConfig, redactConfig, redactUrlPasswords } from './redact';

describe('redaction', () => {
  it.each([
    ['amqp://relais:s3cret@rabbit:5672/vh', 'amqp://relais:***@rabbit:5672/vh'],
    ['postgres://u:p%40ss@pg/relais?sslmode=require', 'postgres://u:***@pg/relais?sslmode=require'],
    ['https://es:9200/?api_key=abc&x=1', 'https://es:9200/?api_key=***&x=1'],
    ['connect ECONNREFUSED amqp://a:b@h failed', 'connect ECONNREFUSED amqp://a:***@h failed'],
    ['amqp://rabbit:5672', 'amqp://rabbit:5672'],
    ['amqp://user@rabbit', 'amqp://user@rabbit'],
  ])('masks the password in %s', (input, output) => {
    expect(redactUrlPasswords(input)).toBe(output);
  });

  it('redacts listed keys, secret-looking keys and URL passwords, leaving the rest', () => {
    const config = {
      amqpUrl: 'amqp://relais:pw@rabbit',
      httpPort: 8080,
      dkim: { selector: 's1', signingKey: '-----BEGIN PRIVATE KEY-----', apiToken: 't' },
      smtpPassword: 'x',
      unsetSecret: undefined,
    };
    expect(redactConfig(config, ['dkim.signingKey'])).toEqual({
      amqpUrl: 'amqp://relais:***@rabbit',
      httpPort: 8080,
      dkim: { selector: 's1', signingKey: '[redacted]', apiToken: '[redacted]' },
      smtpPassword: '[redacted]',
      unsetSecret: undefined,
    });
    expect(config.smtpPassword).toBe('x');
  });

  it('prints the effective config as YAML without secrets', () => {
    let printed = '';
    printEffectiveConfig(
      { databaseUrl: 'postgres://u:pw@pg/db', shutdownTimeout: 30_000 },
      [],
      (text) => {
        printed += text;
      },
    );
    expect(printed).toContain('databaseUrl: postgres://u:***@pg/db\n');
    expect(printed).toContain('shutdownTimeout: 30000\n');
    expect(printed).not.toContain(':pw@');
  });
});
