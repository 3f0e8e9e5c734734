import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@relais/telemetry';
import {
  EngagementProfileSchema,
  classifyEngagement,
  createEngagementScheduler,
  trackingUrlsOf,
} from './engagement';
import { seededRandom } from './random';

const logger = createLogger({ service: 'simulator-test', level: 'silent' });
const TOKEN = 'A'.repeat(66);

function rawWith(base: string): Buffer {
  // Quoted-printable soft breaks inside a URL, as a 76-column encoder writes them.
  const html = `<p>Hi</p><a href=3D"${base}/c/${TOKEN.slice(0, 30)}=\r\n${TOKEN.slice(30)}">Shop</a><img src=3D"${base}/o/${TOKEN}.gif">`;
  return Buffer.from(
    [
      'From: news@sender.test',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Shop: ${base}/c/${'B'.repeat(66)}`,
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      html,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

describe('trackingUrlsOf', () => {
  it('finds the pixel and click URLs of the HTML part only, across soft line breaks', () => {
    expect(trackingUrlsOf(rawWith('http://127.0.0.1:9'))).toEqual({
      pixel: `http://127.0.0.1:9/o/${TOKEN}.gif`,
      links: [`http://127.0.0.1:9/c/${TOKEN}`],
    });
  });
});

describe('classifyEngagement', () => {
  it('draws each behaviour at its configured share', () => {
    const profile = EngagementProfileSchema.parse({
      openRate: 0.5,
      clickRate: 0.2,
      machineOpenRate: 0.3,
      scannerClickRate: 0.1,
    });
    const fates = Array.from({ length: 20_000 }, (_, n) =>
      classifyEngagement(profile, `r${n}@x.test`, 7),
    );
    const share = (pick: (fate: (typeof fates)[number]) => boolean) =>
      fates.filter(pick).length / fates.length;
    expect(share((fate) => fate.privacyProxy)).toBeCloseTo(0.3, 1);
    expect(share((fate) => fate.scanner)).toBeCloseTo(0.1, 1);
    // Human opens: readers not behind the proxy, 0.5 × 0.7.
    expect(share((fate) => fate.humanOpen)).toBeCloseTo(0.35, 1);
    expect(share((fate) => fate.humanClick)).toBeCloseTo(0.1, 1);
    expect(fates.some((fate) => fate.humanOpen && fate.privacyProxy)).toBe(false);
  });
});

describe('createEngagementScheduler', () => {
  let server: Server;
  let base: string;
  const hits: Array<{ url: string; agent: string; forwarded: string | undefined }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push({
        url: req.url ?? '',
        agent: req.headers['user-agent'] ?? '',
        forwarded: req.headers['x-forwarded-for'] as string | undefined,
      });
      res.statusCode = req.url?.startsWith('/c/') ? 302 : 200;
      if (res.statusCode === 302) res.setHeader('location', 'https://shop.example/');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fetches the real URLs as proxy, scanner and person, and never a foreign host', async () => {
    const scheduler = createEngagementScheduler({
      logger,
      allowedHosts: ['127.0.0.1'],
      random: () => seededRandom(1),
    });
    const engagement = EngagementProfileSchema.parse({
      openRate: 1,
      clickRate: 1,
      machineOpenRate: 0,
      scannerClickRate: 1,
      openDelayMs: { min: 0, max: 10 },
      clickDelayMs: { min: 0, max: 10 },
      machineDelayMs: { min: 0, max: 0 },
    });
    scheduler.schedule({ name: 'p', engagement }, 1, {
      recipients: ['a@x.test'],
      raw: rawWith(base),
    });
    scheduler.schedule({ name: 'p', engagement }, 1, {
      recipients: ['b@x.test'],
      raw: rawWith('https://tracking.elsewhere.example'),
    });
    const deadline = Date.now() + 5_000;
    while (scheduler.pending() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(scheduler.summary()).toEqual({
      humanOpens: 1,
      machineOpens: 0,
      humanClicks: 1,
      scannerClicks: 1,
      failed: 0,
      skipped: 3,
    });
    expect(hits.filter((hit) => hit.agent.includes('HeadlessChrome'))).toHaveLength(1);
    await scheduler.close(100);
  });
});
