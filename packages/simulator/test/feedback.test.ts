import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bounceFormatOf,
  buildArf,
  buildDsn,
  classifyFeedback,
  parseHostPort,
  parseProfiles,
  type AsyncBounceFormat,
  type FeedbackReport,
  type Simulator,
  type SimulatorEvent,
} from '../src/index';
import { startOne, transportFor } from './helpers';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A return-path host: accepts everything (or refuses every RCPT) and keeps what it got. */
async function startSink(refuse = false): Promise<{
  port: number;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refuse) callback(Object.assign(new Error('no such user'), { responseCode: 550 }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        received.push({
          from: mailFrom === false ? '' : mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Part {
  headers: string;
  body: string;
}

/** A minimal MIME split: top-level headers, then the parts of a multipart body. */
function mime(raw: string): { headers: string; parts: Part[] } {
  const split = (text: string): Part => {
    const at = text.indexOf('\r\n\r\n');
    return { headers: text.slice(0, at).replace(/\r\n[ \t]+/g, ' '), body: text.slice(at + 4) };
  };
  const top = split(raw);
  const boundary = /boundary="([^"]+)"/.exec(top.headers)?.[1];
  if (boundary === undefined) return { headers: top.headers, parts: [] };
  const sections = top.body.split(`--${boundary}`).slice(1, -1);
  return { headers: top.headers, parts: sections.map((s) => split(s.replace(/^\r\n/, ''))) };
}

function header(headers: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(headers)?.[1]?.trim();
}

function message(to: string, index: number): string {
  return [
    'From: News <news@sender.test>',
    `To: <${to}>`,
    `Subject: Issue ${index}`,
    'Date: Tue, 01 Jul 2025 10:00:00 +0000',
    `Message-ID: <m${index}@sender.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello number ${index}.`,
    '',
  ].join('\r\n');
}

const source = {
  hostname: 'mx.mbox.test',
  mailFrom: 'b+tok1@bounces.sender.test',
  recipient: 'alice@mbox.test',
  clientAddress: '127.0.0.1',
  receivedAtMs: Date.UTC(2025, 6, 1, 10, 0, 0),
  raw: Buffer.from(message('alice@mbox.test', 7)),
};

describe('later bounces and complaints', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('sends one DSN from the null sender per predicted bounce and one ARF report per predicted complaint, then nothing after close', async () => {
    const sink = await startSink();
    cleanups.push(sink.close);
    const profile = {
      asyncBounceRate: 0.3,
      asyncBounceReasons: ['userunknown', 'mailboxfull'] as ('userunknown' | 'mailboxfull')[],
      asyncBounceDelayMs: { min: 5, max: 30 },
      complaintRate: 0.3,
      complaintDelayMs: 20,
      feedback: { address: 'fbl@feedback.sender.test' },
    };
    const simulator: Simulator = await startOne(profile, {
      seed: 11,
      returnPath: { host: '127.0.0.1', port: sink.port },
    });
    cleanups.push(() => simulator.close());
    const events: SimulatorEvent[] = [];
    simulator.subscribe((event) => events.push(event));

    const count = 30;
    const addresses = Array.from({ length: count }, (_, i) => `user${i}@mbox.test`);
    const fates = addresses.map((a) => classifyFeedback(simulator.profiles[0]!, a, 11));
    const bounced = addresses.filter((_, i) => fates[i]!.kind === 'bounce');
    const complained = addresses.filter((_, i) => fates[i]!.kind === 'complaint');
    expect(bounced.length).toBeGreaterThan(0);
    expect(complained.length).toBeGreaterThan(0);

    const transport = transportFor(simulator);
    for (const [i, to] of addresses.entries()) {
      await transport.sendMail({
        envelope: { from: `b+${i}@bounces.sender.test`, to },
        raw: message(to, i),
      });
    }
    await until(
      () => sink.received.length >= bounced.length + complained.length,
      'every report at the sink',
    );

    const dsns = sink.received.filter((r) => r.from === '');
    const arfs = sink.received.filter((r) => r.from !== '');
    expect(dsns).toHaveLength(bounced.length);
    expect(arfs).toHaveLength(complained.length);

    for (const address of bounced) {
      const i = addresses.indexOf(address);
      const mine = dsns.filter((d) => d.raw.includes(`Final-Recipient: rfc822; ${address}\r\n`));
      expect(mine).toHaveLength(1);
      const dsn = mime(mine[0]!.raw);
      expect(mine[0]!.to).toEqual([`b+${i}@bounces.sender.test`]);
      expect(header(dsn.headers, 'Content-Type')).toMatch(
        /^multipart\/report; report-type=delivery-status;/,
      );
      const status = dsn.parts.find((p) => /message\/delivery-status/.test(p.headers));
      const fate = fates[i]!;
      const expected = fate.kind === 'bounce' && fate.reason === 'mailboxfull' ? '5.2.2' : '5.1.1';
      expect(header(status!.body, 'Status')).toBe(expected);
      expect(header(status!.body, 'Action')).toBe('failed');
      expect(header(status!.body, 'Diagnostic-Code')).toMatch(/^smtp; 55\d /);
      const returned = dsn.parts.find((p) => /text\/rfc822-headers/.test(p.headers));
      expect(header(returned!.body, 'Message-ID')).toBe(`<m${i}@sender.test>`);
      expect(header(returned!.body, 'Return-Path')).toBe(`<b+${i}@bounces.sender.test>`);
    }

    for (const address of complained) {
      const i = addresses.indexOf(address);
      const mine = arfs.filter((a) => a.raw.includes(`Original-Rcpt-To: <${address}>\r\n`));
      expect(mine).toHaveLength(1);
      expect(mine[0]!.to).toEqual(['fbl@feedback.sender.test']);
      const arf = mime(mine[0]!.raw);
      expect(header(arf.headers, 'Content-Type')).toMatch(
        /^multipart\/report; report-type=feedback-report;/,
      );
      const report = arf.parts.find((p) => /message\/feedback-report/.test(p.headers))!.body;
      expect(header(report, 'Feedback-Type')).toBe('abuse');
      expect(header(report, 'Version')).toBe('1');
      expect(header(report, 'Original-Mail-From')).toBe(`<b+${i}@bounces.sender.test>`);
      expect(header(report, 'Source-IP')).toBe('127.0.0.1');
      expect(header(report, 'Reported-Domain')).toBe('sender.test');
      const original = arf.parts.find((p) => /message\/rfc822/.test(p.headers))!.body;
      expect(header(original, 'Message-ID')).toBe(`<m${i}@sender.test>`);
    }

    // The sink stores a report before its 250 reaches the simulator, which only then emits.
    const isSent = (e: SimulatorEvent): boolean =>
      e.type === 'bounce.sent' || e.type === 'complaint.sent';
    await until(
      () => events.filter(isSent).length >= bounced.length + complained.length,
      'every sent event',
    );
    const sent = events.filter(isSent);
    expect(sent).toHaveLength(bounced.length + complained.length);
    expect(
      sent
        .map((e) => (e as { report: FeedbackReport }).report)
        .every(
          (r) =>
            r.delivered &&
            r.originalMessageId === `<m${addresses.indexOf(r.recipient)}@sender.test>`,
        ),
    ).toBe(true);
    expect(simulator.stats().mbox).toMatchObject({
      asyncBounces: bounced.length,
      complaints: complained.length,
      feedbackFailures: 0,
    });

    // Scheduled far enough out that close() certainly runs first: nothing may follow it.
    const before = sink.received.length;
    const late = await startOne(
      { ...profile, asyncBounceRate: 1, asyncBounceDelayMs: 1_000, complaintRate: 0 },
      { seed: 11, returnPath: { host: '127.0.0.1', port: sink.port } },
    );
    cleanups.push(() => late.close());
    await transportFor(late).sendMail({
      envelope: { from: 'b+late@bounces.sender.test', to: 'late@mbox.test' },
      raw: message('late@mbox.test', 99),
    });
    expect(late.pendingFeedback()).toBe(1);
    await late.close();
    expect(late.pendingFeedback()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(sink.received.length).toBe(before);
  });

  it('keeps reports in memory and emits them when there is no return path', async () => {
    const simulator = await startOne({ asyncBounceRate: 1, asyncBounceDelayMs: 0 });
    cleanups.push(() => simulator.close());
    await transportFor(simulator).sendMail({
      envelope: { from: 'b+x@bounces.sender.test', to: 'x@mbox.test' },
      raw: message('x@mbox.test', 1),
    });
    await until(() => simulator.feedbackReports().length === 1, 'the report');
    const [report] = simulator.feedbackReports();
    expect(report).toMatchObject({
      kind: 'bounce',
      delivered: false,
      envelopeFrom: '',
      envelopeTo: 'b+x@bounces.sender.test',
      format: 'rfc3464-postfix',
      status: '5.1.1',
      originalMessageId: '<m1@sender.test>',
    });
  });

  it('reports a delivery the return-path host refuses as feedback.failed', async () => {
    const sink = await startSink(true);
    cleanups.push(sink.close);
    const simulator = await startOne(
      { complaintRate: 1, complaintDelayMs: 0 },
      { returnPath: { host: '127.0.0.1', port: sink.port } },
    );
    cleanups.push(() => simulator.close());
    const failed: SimulatorEvent[] = [];
    simulator.subscribe((event) => {
      if (event.type === 'feedback.failed') failed.push(event);
    });
    await transportFor(simulator).sendMail({
      envelope: { from: 'b+y@bounces.sender.test', to: 'y@mbox.test' },
      raw: message('y@mbox.test', 2),
    });
    await until(() => failed.length === 1, 'the failure');
    expect(failed[0]).toMatchObject({ error: expect.stringMatching(/550/) });
    expect(simulator.stats().mbox).toMatchObject({ complaints: 0, feedbackFailures: 1 });
  });

  it('writes each bounce style with the fields its real system uses', () => {
    const formats: AsyncBounceFormat[] = ['rfc3464-postfix', 'gmail', 'exchange'];
    for (const format of formats) {
      const built = buildDsn(source, format, 'userunknown', source.receivedAtMs + 60_000);
      const raw = built.raw.toString('utf8');
      expect(built.envelopeFrom).toBe('');
      expect(raw).not.toMatch(/[^\r]\n/);
      const dsn = mime(raw);
      expect(dsn.parts.map((p) => header(p.headers, 'Content-Type'))).toEqual([
        'text/plain; charset=us-ascii',
        'message/delivery-status',
        'text/rfc822-headers',
      ]);
      const status = dsn.parts[1]!.body;
      expect(header(status, 'Reporting-MTA')).toMatch(/^dns; /);
      expect(header(status, 'Arrival-Date')).toBe('Tue, 01 Jul 2025 10:00:00 +0000');
      expect(header(status, 'Final-Recipient')).toBe('rfc822; alice@mbox.test');
      expect(header(status, 'Status')).toBe('5.1.1');
      expect(header(status, 'Remote-MTA')).toBe('dns; mx.mbox.test');
      expect(header(dsn.parts[2]!.body, 'Message-ID')).toBe('<m7@sender.test>');
    }
    const gmail = buildDsn(source, 'gmail', 'userunknown', source.receivedAtMs).raw.toString();
    expect(gmail).toContain('From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>');
    expect(gmail).toContain("because the address couldn't be found");
    expect(gmail).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 The email account .* - gsmtp\r$/m);
    const exchange = buildDsn(
      source,
      'exchange',
      'mailboxfull',
      source.receivedAtMs,
    ).raw.toString();
    expect(exchange).toContain('Subject: Undeliverable: Issue 7');
    expect(exchange).toContain('Diagnostic information for administrators:');
    expect(exchange).toContain('Status: 5.2.2');

    const exim = buildDsn(source, 'exim', 'spamdetected', source.receivedAtMs).raw.toString();
    const eximHeaders = mime(exim).headers;
    expect(header(eximHeaders, 'X-Failed-Recipients')).toBe('alice@mbox.test');
    expect(header(eximHeaders, 'Subject')).toBe(
      'Mail delivery failed: returning message to sender',
    );
    expect(header(eximHeaders, 'Content-Type')).toBeUndefined();
    expect(exim).toContain('This message was created automatically by mail delivery software.');
    expect(exim).toContain('    550 5.7.1 ');
    expect(exim).toContain('Message-ID: <m7@sender.test>');
    expect(exim).toContain('Hello number 7.');
  });

  it('attaches only the headers of a large original to an ARF report', () => {
    const big = { ...source, raw: Buffer.from(message('alice@mbox.test', 8) + 'x'.repeat(70_000)) };
    const arf = mime(buildArf(big, 'fbl@f.test', 'ua/1', source.receivedAtMs).raw.toString());
    expect(header(arf.parts[2]!.headers, 'Content-Type')).toBe('text/rfc822-headers');
    expect(arf.parts[2]!.body).not.toContain('xxxx');
    expect(header(arf.parts[1]!.body, 'User-Agent')).toBe('ua/1');
  });

  it('picks the bounce style from the provider and keeps fates fixed per address', () => {
    const [gmail, outlook, orange, forced] = parseProfiles([
      { name: 'gmail', domains: ['gmail.test'] },
      { name: 'outlook', domains: ['outlook.test'] },
      { name: 'orange', domains: ['orange.test'] },
      { name: 'x', domains: ['x.test'], asyncBounceFormat: 'exim', asyncBounceRate: 0.5 },
    ]);
    expect([gmail, outlook, orange, forced].map((p) => bounceFormatOf(p!))).toEqual([
      'gmail',
      'exchange',
      'rfc3464-postfix',
      'exim',
    ]);
    expect(gmail).toMatchObject({
      asyncBounceRate: 0,
      complaintRate: 0,
      feedback: { address: null },
    });
    expect(classifyFeedback(gmail!, 'a@gmail.test', 1)).toEqual({ kind: 'none' });
    const fates = Array.from({ length: 200 }, (_, i) =>
      classifyFeedback(forced!, `u${i}@x.test`, 3),
    );
    const again = Array.from({ length: 200 }, (_, i) =>
      classifyFeedback(forced!, `U${i}@x.test`, 3),
    );
    expect(again).toEqual(fates);
    const share = fates.filter((f) => f.kind === 'bounce').length / fates.length;
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
  });

  it('reads --return-path as host:port and refuses anything else', () => {
    expect(parseHostPort('127.0.0.1:2526')).toEqual({ host: '127.0.0.1', port: 2526 });
    expect(parseHostPort('[::1]:25')).toEqual({ host: '::1', port: 25 });
    expect(() => parseHostPort('localhost')).toThrow(/host:port/);
    expect(() => parseHostPort('h:70000')).toThrow(/host:port/);
  });
});
