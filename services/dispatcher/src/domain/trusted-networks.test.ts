import { describe, expect, it } from 'vitest';
import { createNetworkMatcher, isNetwork } from './trusted-networks';

describe('trusted networks', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.0.0.0/8', true],
    ['::1/128', true],
    ['fd00::/8', true],
    ['10.0.0.0/33', false],
    ['localhost', false],
    ['10.0.0.0/8/1', false],
    ['10.0.0.0/x', false],
  ])('accepts %s as a network: %s', (text, valid) => {
    expect(isNetwork(text)).toBe(valid);
  });

  it('matches clients inside the networks only, IPv4-mapped addresses as IPv4', () => {
    const trusted = createNetworkMatcher(['127.0.0.1', '10.1.0.0/16', '::1']);
    expect(trusted('127.0.0.1')).toBe(true);
    expect(trusted('::ffff:127.0.0.1')).toBe(true);
    expect(trusted('10.1.200.3')).toBe(true);
    expect(trusted('::1')).toBe(true);
    expect(trusted('10.2.0.1')).toBe(false);
    expect(trusted('127.0.0.2')).toBe(false);
    expect(trusted('')).toBe(false);
  });

  it('trusts nobody when the list is empty', () => {
    expect(createNetworkMatcher([])('127.0.0.1')).toBe(false);
  });
});
