import { describe, expect, it } from 'vitest';
import type { IpPoolName } from '@relais/domain';
import {
  createDomainClassifier,
  createPoolRouter,
  poolsOf,
  type RoutingPolicy,
} from './pool-routing';

const pool = (name: string) => name as IpPoolName;
const policy: RoutingPolicy = {
  defaultPool: pool('default'),
  rules: [
    { messageClass: 'transactional', pool: pool('tx') },
    { recipientDomains: ['gmail.com', '*.yahoo.com'], pool: pool('warm') },
    { messageClass: 'marketing', recipientDomains: ['outlook.com'], pool: pool('ms') },
  ],
};
const route = createPoolRouter(policy);

describe('createPoolRouter', () => {
  it.each([
    ['transactional', 'gmail.com', 'tx', 'the first matching rule wins'],
    ['marketing', 'gmail.com', 'warm', 'an exact domain'],
    ['marketing', 'GMAIL.com', 'warm', 'domains compare case-insensitively'],
    ['marketing', 'mail.gmail.com', 'default', 'an exact domain does not cover subdomains'],
    ['marketing', 'eu.yahoo.com', 'warm', 'a wildcard covers subdomains'],
    ['marketing', 'yahoo.com', 'default', 'a wildcard does not cover the domain itself'],
    ['marketing', 'notyahoo.com', 'default', 'a wildcard matches whole labels only'],
    ['marketing', 'outlook.com', 'ms', 'class and domain both hold'],
    ['marketing', 'example.org', 'default', 'no rule matches'],
  ] as const)('%s to %s goes to %s (%s)', (messageClass, domain, expected, _why) => {
    expect(route(messageClass, domain)).toBe(expected);
  });

  it('routes everything to the default pool without rules', () => {
    const only = createPoolRouter({ defaultPool: pool('default'), rules: [] });
    expect(only('transactional', 'gmail.com')).toBe('default');
  });

  it('lists every pool the policy can pick, once', () => {
    expect(poolsOf(policy)).toEqual(['default', 'ms', 'tx', 'warm']);
  });
});

describe('routing by reputation class', () => {
  const byReputation = createPoolRouter({
    defaultPool: pool('default'),
    domainClasses: { 'gmail.com': 'strict', '*.yahoo.com': 'strict', 'corp.example': 'lax' },
    rules: [
      { messageClass: 'transactional', pool: pool('tx') },
      { messageClass: 'marketing', reputation: ['strict'], pool: pool('warm') },
      { reputation: ['default'], pool: pool('shared') },
    ],
  });

  it.each([
    ['marketing', 'gmail.com', 'warm', 'a strict domain gets the warm pool'],
    ['marketing', 'eu.yahoo.com', 'warm', 'a wildcard entry classifies subdomains'],
    ['transactional', 'gmail.com', 'tx', 'an earlier rule still wins'],
    ['marketing', 'corp.example', 'default', 'a class no rule names falls through'],
    ['marketing', 'example.org', 'shared', 'unlisted domains are of the default class'],
  ] as const)('%s to %s goes to %s (%s)', (messageClass, domain, expected, _why) => {
    expect(byReputation(messageClass, domain)).toBe(expected);
  });

  it('classifies exact entries before wildcards, the nearest wildcard first', () => {
    const classOf = createDomainClassifier({
      '*.example.com': 'lax',
      '*.mail.example.com': 'strict',
      'example.com': 'strict',
    });
    expect(classOf('Example.COM')).toBe('strict');
    expect(classOf('a.example.com')).toBe('lax');
    expect(classOf('a.mail.example.com')).toBe('strict');
    expect(classOf('example.org')).toBe('default');
  });
});
