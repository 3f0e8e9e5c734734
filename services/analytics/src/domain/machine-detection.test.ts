import { describe, expect, it } from 'vitest';
import { classifyClick, classifyOpen, type EngagementRequest } from './machine-detection';

const DELIVERED = new Date('2026-11-27T08:00:00Z');
const windows = { machineOpenMs: 2_000, machineClickMs: 5_000 };
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

function request(over: Partial<EngagementRequest> = {}): EngagementRequest {
  return {
    method: 'GET',
    userAgent: SAFARI,
    ip: '203.0.113.7',
    at: new Date(DELIVERED.getTime() + 600_000),
    deliveredAt: DELIVERED,
    ...over,
  };
}

describe('classifyOpen', () => {
  it.each([
    ['a mail client, minutes later', {}, false, null],
    ['Apple MPP by its bare agent', { userAgent: 'Mozilla/5.0' }, true, 'apple-mpp'],
    ["Apple MPP by Apple's network", { ip: '17.58.63.12' }, true, 'apple-mpp'],
    ['Apple MPP over IPv4-mapped IPv6', { ip: '::ffff:17.1.2.3' }, true, 'apple-mpp'],
    [
      'the Gmail image proxy (a person opened)',
      {
        userAgent:
          'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
      },
      false,
      'google-image-proxy',
    ],
    ['a HEAD request', { method: 'HEAD' }, true, 'head-request'],
    [
      'a scanner agent',
      { userAgent: 'Mozilla/5.0 Proofpoint URL Defense' },
      true,
      'security-scanner',
    ],
    ["a scanner's network", { ip: '40.107.22.1' }, true, 'security-scanner'],
    ['one second after delivery', { at: new Date(DELIVERED.getTime() + 1_000) }, true, 'too-soon'],
  ] as const)('%s', (_name, over, machine, reason) => {
    expect(classifyOpen(request(over), windows)).toEqual({ machine, reason });
  });
});

describe('classifyClick', () => {
  const history = { linkCount: 3, distinctRecentLinks: 1 };

  it.each([
    ['a person, minutes later', {}, history, false, null],
    ['a scanner agent', { userAgent: 'Mimecast URL Protect' }, history, true, 'security-scanner'],
    [
      'three seconds after delivery',
      { at: new Date(DELIVERED.getTime() + 3_000) },
      history,
      true,
      'too-soon',
    ],
    [
      'the last of every link at once',
      {},
      { linkCount: 3, distinctRecentLinks: 3 },
      true,
      'all-links',
    ],
    ['the only link of a message', {}, { linkCount: 1, distinctRecentLinks: 1 }, false, null],
    // Apple's network does not click on anyone's behalf: a person on an Apple network.
    ['from an Apple network', { ip: '17.1.2.3' }, history, false, null],
  ] as const)('%s', (_name, over, clicks, machine, reason) => {
    expect(classifyClick(request(over), clicks, windows)).toEqual({ machine, reason });
  });
});
