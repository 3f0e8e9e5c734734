import { RelaisError } from '@relais/domain';
import { describe, expect, it } from 'vitest';
import {
  PROFILE_FILES,
  loadProfilesFile,
  matchesDomain,
  parseProfiles,
  parseProfilesFile,
} from './profile';

describe('provider profiles', () => {
  it('fills defaults so a profile needs only a name and domains', () => {
    const [profile] = parseProfiles([{ name: 'p', domains: ['P.test'] }]);
    expect(profile).toMatchObject({
      domains: ['p.test'],
      latencyMs: 0,
      maxConnectionsPerClient: null,
      ratePerSecond: null,
      greylist: false,
      tempFailureRate: 0,
    });
  });

  it('rejects a domain pattern listed under two providers, saying how to fix it', () => {
    const parse = () =>
      parseProfiles([
        { name: 'a', domains: ['x.test'] },
        { name: 'b', domains: ['x.test'] },
      ]);
    expect(parse).toThrow(RelaisError);
    expect(parse).toThrow(/x\.test belongs to both "a" and "b"/);
  });

  it('lists every invalid field in one error', () => {
    expect(() =>
      parseProfilesFile('providers:\n  - name: A B\n    domains: []\n    unknownUserRate: 2\n'),
    ).toThrow(/providers\.0\.name.*providers\.0\.domains.*providers\.0\.unknownUserRate/);
  });

  it('matches a wildcard pattern on subdomains only', () => {
    expect(matchesDomain('*.gmail.test', 'eu.gmail.test')).toBe(true);
    expect(matchesDomain('*.gmail.test', 'gmail.test')).toBe(false);
    expect(matchesDomain('gmail.test', 'GMAIL.test')).toBe(true);
  });

  it.each(Object.entries(PROFILE_FILES))(
    'loads the %s profiles shipped with the package: the same five providers',
    async (_name, path) => {
      const file = await loadProfilesFile(path);
      expect(file.providers.map((p) => p.name)).toEqual([
        'gmail',
        'outlook',
        'yahoo',
        'orange',
        'strict',
      ]);
    },
  );

  it('keeps the demo profiles free of addresses that could only expire', async () => {
    const file = await loadProfilesFile(PROFILE_FILES.demo);
    for (const provider of file.providers) {
      expect(provider.mailboxFullRate).toBe(0);
      expect(provider.fullMailboxes).toEqual([]);
      expect(provider.ratePerSecond).toBeNull();
    }
  });
});
