import { afterEach, describe, expect, it } from 'vitest';
import { classifyRecipient, type Simulator } from '../src/index';
import { plainMessage, sendError, startOne, transportFor } from './helpers';

const FROM = 'bounces@sender.test';

describe('changing a provider while it runs', () => {
  let simulator: Simulator | undefined;
  afterEach(async () => {
    await simulator?.close();
    simulator = undefined;
  });

  it('answers with the new behaviour from the next message on, and back again', async () => {
    simulator = await startOne({});
    const running = simulator;
    const addresses = Array.from({ length: 20 }, (_, i) => `reader${i}@mbox.test`);
    const refused = async () => {
      let count = 0;
      for (const to of addresses) {
        const error = await sendError(
          transportFor(running).sendMail({ envelope: { from: FROM, to }, raw: plainMessage(to) }),
        );
        if (error?.responseCode === 550) count += 1;
      }
      return count;
    };
    expect(await refused()).toBe(0);

    const profile = running.updateProfile('mbox', { unknownUserRate: 0.2 });
    expect(profile.unknownUserRate).toBe(0.2);
    expect(running.profiles[0]?.unknownUserRate).toBe(0.2);
    // The fates are the profile's: the same addresses as classifyRecipient predicts.
    const expected = addresses.filter(
      (to) => classifyRecipient(profile, to, running.seed) === 'unknown_user',
    ).length;
    expect(expected).toBeGreaterThan(0);
    expect(await refused()).toBe(expected);
    expect(running.stats()['mbox']?.rejectedByCode['550 5.1.1']).toBe(expected);

    running.updateProfile('mbox', { unknownUserRate: 0 });
    expect(await refused()).toBe(0);
  });

  it('refuses an unknown provider and an invalid value', async () => {
    simulator = await startOne({});
    expect(() => simulator!.updateProfile('nobody', { unknownUserRate: 0.1 })).toThrow(
      /no simulated provider named nobody/,
    );
    expect(() => simulator!.updateProfile('mbox', { unknownUserRate: 2 })).toThrow();
    expect(simulator.profiles[0]?.unknownUserRate).toBe(0);
  });
});
