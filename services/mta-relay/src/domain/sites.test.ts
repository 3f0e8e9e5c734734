import { describe, expect, it } from 'vitest';
import { compileProfiles, isThrottleReply, siteOf } from './sites';

const profiles = compileProfiles();

describe('siteOf', () => {
  it.each([
    [['gmail-smtp-in.l.google.com'], 'google'],
    [['aspmx.l.google.com', 'alt1.aspmx.l.google.com'], 'google'],
    [['example-com.mail.protection.outlook.com'], 'microsoft'],
    [['mta5.am0.yahoodns.net'], 'yahoo'],
    [['mx-aol.mail.gm0.yahoodns.net'], 'yahoo'],
    [['mx01.mail.icloud.com'], 'apple'],
    [['smtp-in.orange.fr'], 'orange'],
    [['mx2.sfr.fr'], 'sfr'],
    [['mx1.free.fr'], 'free'],
    [['smtp-in.laposte.net'], 'laposte'],
    [['mx00.emig.gmx.net'], 'gmx-webde'],
    [['mx-ha03.web.de'], 'gmx-webde'],
  ])('groups a domain hosted on %j into the %s site', (hosts, site) => {
    expect(siteOf(profiles, { domain: 'customer.example', hosts, port: 25 }).name).toBe(site);
  });

  it('uses a later MX host when the first names no provider', () => {
    const hosts = ['filter.customer.example', 'aspmx.l.google.com'];
    expect(siteOf(profiles, { domain: 'customer.example', hosts, port: 25 }).name).toBe('google');
  });

  it('gives an unknown provider a site of its own named after its best host', () => {
    const site = siteOf(profiles, { domain: 'a.example', hosts: ['MX.A.example.'], port: 2525 });
    expect(site.name).toBe('default:mx.a.example:2525');
    expect(site.profile.name).toBe('default');
  });

  it('matches recipient-domain patterns when no MX host does (static routes)', () => {
    const site = siteOf(profiles, { domain: 'gmail.com', hosts: ['127.0.0.1'], port: 2525 });
    expect(site.name).toBe('google');
  });
});

describe('compileProfiles', () => {
  it('overrides fields of a known profile and adds new ones before the built-in ones', () => {
    const set = compileProfiles([
      { name: 'google', maxRatePerSecond: 5 },
      { name: 'corp', domains: ['*.corp.example'], throttleReplies: ['slow down'] },
    ]);
    expect(set.profiles[0]?.name).toBe('corp');
    expect(set.profiles.find((profile) => profile.name === 'google')).toMatchObject({
      maxRatePerSecond: 5,
      maxConnections: 20,
    });
    const corp = siteOf(set, { domain: 'eu.corp.example', hosts: ['10.0.0.1'], port: 25 });
    expect(corp.profile).toMatchObject({ name: 'corp', maxConnections: 5 });
    expect(isThrottleReply(corp.profile, { code: 451, text: '451 please SLOW DOWN' })).toBe(true);
  });
});

describe('isThrottleReply', () => {
  const by = (name: string) => {
    const profile = profiles.profiles.find((candidate) => candidate.name === name);
    if (profile === undefined) throw new Error(name);
    return profile;
  };

  it.each([
    ['google', 421, '421-4.7.28 Our system has detected an unusual rate of unsolicited mail'],
    [
      'google',
      451,
      '451 4.7.28 Gmail has detected an unusual rate of mail originating from your IP',
    ],
    ['microsoft', 451, '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited'],
    ['microsoft', 450, '450 4.7.500 Server busy. Please try again later. (S3150)'],
    ['yahoo', 421, '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred'],
    ['yahoo', 451, '451 [TSS04] Messages temporarily deferred due to unexpected volume'],
    ['orange', 421, '421 mwinf5c22 ME Service refuse. Veuillez essayer plus tard. OFR004_104'],
    ['gmx-webde', 451, '451 Requested action aborted: mail rate limit exceeded'],
  ])('reads %s %i as throttling', (name, code, text) => {
    expect(isThrottleReply(by(name), { code, text })).toBe(true);
  });

  it.each([
    [451, '451 4.7.1 Greylisted, please try again later'],
    [452, '452 4.2.2 The email account that you tried to reach is over quota'],
    [250, '250 2.0.0 OK'],
    [550, '550 5.1.1 user unknown'],
  ])('does not read %i as throttling', (code, text) => {
    expect(isThrottleReply(by('google'), { code, text })).toBe(false);
  });
});
