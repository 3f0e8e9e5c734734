import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveSeed, seededRandom, type Simulator } from '../src/index';
import { manualClock, plainMessage, sendError, startOne, transportFor } from './helpers';

const FROM = 'bounces@sender.test';

describe('simulated provider', () => {
  let simulator: Simulator | undefined;
  afterEach(async () => {
    await simulator?.close();
    simulator = undefined;
  });

  it('accepts a message, counts it and exposes routes for the relay', async () => {
    simulator = await startOne({ domains: ['mbox.test', '*.mbox.test'] });
    const routes = simulator.routes();
    expect(routes.map((r) => r.pattern)).toEqual(['mbox.test', '*.mbox.test']);
    expect(routes[0]).toMatchObject({ host: '127.0.0.1', provider: 'mbox' });
    expect(routes[0]!.port).toBeGreaterThan(0);

    const raw = plainMessage('alice@mbox.test');
    const info = await transportFor(simulator).sendMail({
      envelope: { from: FROM, to: ['alice@mbox.test', 'bob@eu.mbox.test'] },
      raw,
    });
    expect(info.response).toMatch(/^250 2\.0\.0 OK queued as mbox-/);

    const stats = simulator.stats().mbox!;
    expect(stats).toMatchObject({
      connections: 1,
      messagesAccepted: 1,
      recipientsAccepted: 2,
      bytesAccepted: Buffer.byteLength(raw),
      dkim: { none: { none: 1 } },
    });
    const [message] = simulator.messages();
    expect(message).toMatchObject({
      mailFrom: FROM,
      recipients: ['alice@mbox.test', 'bob@eu.mbox.test'],
    });
    expect(message!.raw.toString()).toBe(raw);
  });

  it('waits latencyMs before each reply', async () => {
    simulator = await startOne({ latencyMs: 150 });
    const started = performance.now();
    await transportFor(simulator).sendMail({
      envelope: { from: FROM, to: 'a@mbox.test' },
      raw: plainMessage('a@mbox.test'),
    });
    // Greeting, MAIL, RCPT and end of DATA are each delayed.
    expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 150 - 10);
  });

  it('refuses a connection beyond maxConnectionsPerClient with 421 4.7.0 and admits again once one closes', async () => {
    simulator = await startOne({ maxConnectionsPerClient: 1 });
    const route = simulator.routes()[0]!;
    const open = (): Promise<SMTPConnection> =>
      new Promise((resolve, reject) => {
        const connection = new SMTPConnection({
          host: route.host,
          port: route.port,
          ignoreTLS: true,
        });
        connection.once('error', reject);
        connection.connect(() => resolve(connection));
      });
    const first = await open();
    const refused = await sendError(open());
    expect(refused).toMatchObject({ responseCode: 421 });
    expect(refused!.response).toContain('421 4.7.0 too many connections');

    first.quit();
    await expect.poll(() => simulator!.stats().mbox!.openConnections).toBe(0);
    const again = await open();
    again.quit();
    expect(simulator.stats().mbox!.refusals).toEqual({ too_many_connections: 1 });
  });

  it('rate limits per client IP at the first RCPT with 421 4.7.0 and refills at ratePerSecond', async () => {
    const clock = manualClock();
    simulator = await startOne({ ratePerSecond: 1, rateBurst: 2 }, { clock });
    const send = () =>
      transportFor(simulator!).sendMail({
        envelope: { from: FROM, to: 'a@mbox.test' },
        raw: plainMessage('a@mbox.test'),
      });
    await send();
    await send();
    const limited = await sendError(send());
    expect(limited).toMatchObject({ responseCode: 421 });
    expect(limited!.response).toBe('421 4.7.0 rate limited, try again later');

    clock.advance(1_000);
    await send();
    expect(simulator.stats().mbox).toMatchObject({
      messagesAccepted: 3,
      rejectedByCode: { '421 4.7.0': 1 },
    });
  });

  it('refuses unknown users with 550 5.1.1 and full mailboxes with 452 4.2.2, per recipient', async () => {
    simulator = await startOne({
      unknownUsers: ['nobody', 'ghost-*@mbox.test'],
      fullMailboxes: ['full-*'],
    });
    const to = ['alice@mbox.test', 'nobody@mbox.test', 'ghost-7@mbox.test', 'full-1@mbox.test'];
    const info = await transportFor(simulator).sendMail({
      envelope: { from: FROM, to },
      raw: plainMessage('alice@mbox.test'),
    });
    expect(info.accepted).toEqual(['alice@mbox.test']);
    const responses = Object.fromEntries(
      (info.rejectedErrors ?? []).map((error: any) => [error.recipient, error.response]),
    );
    expect(responses).toEqual({
      'nobody@mbox.test': '550 5.1.1 the email account does not exist',
      'ghost-7@mbox.test': '550 5.1.1 the email account does not exist',
      'full-1@mbox.test': '452 4.2.2 mailbox full, over quota',
    });
    expect(simulator.stats().mbox).toMatchObject({
      recipientsAccepted: 1,
      rejectedByCode: { '550 5.1.1': 2, '452 4.2.2': 1 },
    });
  });

  it('greylists the first attempt of a triple with 451 4.7.1 and accepts a retry after greylistDelayMs', async () => {
    const clock = manualClock();
    simulator = await startOne({ greylist: true, greylistDelayMs: 300_000 }, { clock });
    const send = () =>
      transportFor(simulator!).sendMail({
        envelope: { from: FROM, to: 'a@mbox.test' },
        raw: plainMessage('a@mbox.test'),
      });
    const first = await sendError(send());
    expect(first).toMatchObject({
      responseCode: 451,
      response: '451 4.7.1 greylisted, try again later',
    });
    clock.advance(60_000);
    expect(await sendError(send())).toMatchObject({ responseCode: 451 });
    clock.advance(240_000);
    await send();
    expect(simulator.stats().mbox).toMatchObject({ greylisted: 2, messagesAccepted: 1 });
  });

  it('fails messages at tempFailureRate with 451 4.3.0, replaying the seeded sequence', async () => {
    const seed = 42;
    simulator = await startOne({ tempFailureRate: 0.3 }, { seed });
    const transport = transportFor(simulator, 'mbox.test', true);
    const draws = seededRandom(deriveSeed(seed, 'mbox/failure'));
    const expected = Array.from({ length: 30 }, () => draws() < 0.3);
    const failed: boolean[] = [];
    for (let i = 0; i < expected.length; i++) {
      const error = await sendError(
        transport.sendMail({
          envelope: { from: FROM, to: 'a@mbox.test' },
          raw: plainMessage('a@mbox.test'),
        }),
      );
      if (error !== null)
        expect(error.response).toBe('451 4.3.0 temporary local problem, try again later');
      failed.push(error !== null);
    }
    transport.close();
    expect(failed).toEqual(expected);
    expect(failed.filter(Boolean).length).toBeGreaterThan(0);
    expect(simulator.stats().mbox).toMatchObject({
      messagesAccepted: expected.filter((f) => !f).length,
      rejectedByCode: { '451 4.3.0': expected.filter(Boolean).length },
    });
  });

  it('refuses a message over maxMessageSizeBytes with 552 5.3.4', async () => {
    simulator = await startOne({ maxMessageSizeBytes: 2_000 });
    const error = await sendError(
      transportFor(simulator).sendMail({
        envelope: { from: FROM, to: 'a@mbox.test' },
        raw: plainMessage('a@mbox.test', 'x'.repeat(70) + '\r\n'.repeat(1) + 'y'.repeat(5_000)),
      }),
    );
    expect(error).toMatchObject({ responseCode: 552 });
    expect(simulator.stats().mbox!.messagesAccepted).toBe(0);
  });

  it('refuses recipients of domains it does not serve with 554 5.7.1', async () => {
    simulator = await startOne({});
    const error = await sendError(
      transportFor(simulator).sendMail({
        envelope: { from: FROM, to: 'a@other.test' },
        raw: plainMessage('a@other.test'),
      }),
    );
    expect(error).toMatchObject({ responseCode: 554 });
  });
});
