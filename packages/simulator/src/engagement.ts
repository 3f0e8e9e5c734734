import { z } from 'zod';
import type { Logger } from '@relais/telemetry';
import { addressScore, type Random } from './random';

const rate = z.number().min(0).max(1);
const delay = z
  .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
  .refine((range) => range.min <= range.max, 'min must not exceed max');

/**
 * How the recipients of one provider engage with delivered mail. Fates are hashed per
 * address like bounces, so a test predicts exactly who opens, who is behind a privacy
 * proxy and who is behind a link scanner. Every fetch goes to the real tracking URLs
 * found in the delivered HTML, on loopback hosts only.
 */
export const EngagementProfileSchema = z.object({
  /** Share of recipients (not behind a privacy proxy) who open: one human pixel fetch. */
  openRate: rate.default(0),
  /** Share of those who open who then click the first tracked link. */
  clickRate: rate.default(0),
  /**
   * Share of recipients whose client is behind Apple Mail Privacy Protection: the proxy
   * fetches the pixel soon after delivery (a bare `Mozilla/5.0`, from Apple's network)
   * whether or not the person reads it, and no human open is ever visible.
   */
  machineOpenRate: rate.default(0),
  /** Share of recipients behind a security gateway that fetches every link at delivery. */
  scannerClickRate: rate.default(0),
  /** From acceptance to a human open. */
  openDelayMs: delay.default({ min: 5_000, max: 60_000 }),
  /** From a human open to the click. */
  clickDelayMs: delay.default({ min: 1_000, max: 20_000 }),
  /** From acceptance to a proxy's or scanner's fetches. */
  machineDelayMs: delay.default({ min: 0, max: 1_000 }),
});

/** A provider's engagement behaviour with defaults filled in. */
export type EngagementProfile = z.infer<typeof EngagementProfileSchema>;

/** What one recipient does with a delivered message (fixed per seed and address). */
export interface EngagementFate {
  /** Behind Apple MPP: one machine open, no visible human open. */
  privacyProxy: boolean;
  /** Behind a link scanner: every link fetched at delivery. */
  scanner: boolean;
  /** A human pixel fetch. */
  humanOpen: boolean;
  /** A human click on the first link (only after a human open, or through the proxy). */
  humanClick: boolean;
}

/** The fate of `address` under `profile`: who opens, clicks, and through what. */
export function classifyEngagement(
  profile: EngagementProfile,
  address: string,
  seed: number,
): EngagementFate {
  const privacyProxy = addressScore(seed, 'engagement-mpp', address) < profile.machineOpenRate;
  const scanner = addressScore(seed, 'engagement-scanner', address) < profile.scannerClickRate;
  const reads = addressScore(seed, 'engagement-open', address) < profile.openRate;
  const clicks = reads && addressScore(seed, 'engagement-click', address) < profile.clickRate;
  return { privacyProxy, scanner, humanOpen: reads && !privacyProxy, humanClick: clicks };
}

/** The user agents and networks simulated fetches come with. */
export const SIMULATED_AGENTS = {
  human:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  /** Apple's proxy fetcher sends the bare product token. */
  privacyProxy: 'Mozilla/5.0',
  /** A network in Apple's 17.0.0.0/8, sent as X-Forwarded-For. */
  privacyProxyAddress: '17.58.63.12',
  scanner:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36',
} as const;

/** The tracking URLs of a delivered message's HTML part. */
export interface TrackingUrls {
  pixel: string | undefined;
  links: string[];
}

const TRACKING_URL = /https?:\/\/[^\s"'<>]+?\/(?:o\/[A-Za-z0-9_-]+\.gif|c\/[A-Za-z0-9_-]+)/g;

/** Finds the open pixel and click URLs in a raw message's HTML part. */
export function trackingUrlsOf(raw: Buffer): TrackingUrls {
  const html = htmlPartOf(raw.toString('latin1'));
  const found = html === undefined ? [] : [...html.matchAll(TRACKING_URL)].map((m) => m[0]);
  return {
    pixel: found.find((url) => /\/o\/[A-Za-z0-9_-]+\.gif$/.test(url)),
    links: [...new Set(found.filter((url) => /\/c\/[A-Za-z0-9_-]+$/.test(url)))],
  };
}

// Enough MIME for what relais builds: nested multiparts, quoted-printable or base64 parts.
function htmlPartOf(entity: string): string | undefined {
  const split = entity.search(/\r?\n\r?\n/);
  const head = split < 0 ? entity : entity.slice(0, split);
  const body = split < 0 ? '' : entity.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = head.replace(/\r?\n[ \t]+/g, ' ');
  const type = /^content-type:\s*([^;\r\n]+)(.*)$/im.exec(headers);
  const mediaType = (type?.[1] ?? 'text/plain').trim().toLowerCase();
  if (mediaType.startsWith('multipart/')) {
    const boundary = /boundary="?([^";\r\n]+)"?/i.exec(type?.[2] ?? '')?.[1];
    if (boundary === undefined) return undefined;
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const html = htmlPartOf(part.replace(/^\r?\n/, ''));
      if (html !== undefined) return html;
    }
    return undefined;
  }
  if (mediaType !== 'text/html') return undefined;
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    return Buffer.from(
      body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  }
  return body;
}

/** What the recipients of the simulated providers did, in total. */
export interface EngagementSummary {
  humanOpens: number;
  machineOpens: number;
  humanClicks: number;
  scannerClicks: number;
  /** Fetches that failed (connection refused, non-2xx/3xx) or were skipped (foreign host). */
  failed: number;
  skipped: number;
}

/** What the scheduler needs from the simulator. */
export interface EngagementDeps {
  random: (provider: string) => Random;
  logger: Logger;
  /** Hosts the simulator may fetch from; anything else is skipped. */
  allowedHosts: readonly string[];
}

/** Schedules and performs the opens and clicks of delivered messages. */
export interface EngagementScheduler {
  schedule(
    profile: { name: string; engagement: EngagementProfile },
    seed: number,
    message: {
      recipients: readonly string[];
      raw: Buffer;
    },
  ): void;
  /** Fetches scheduled or running. */
  pending(): number;
  summary(): EngagementSummary;
  /** Drops scheduled fetches and waits (bounded) for running ones. */
  close(timeoutMs: number): Promise<void>;
}

/** The engagement scheduler of one simulator. */
export function createEngagementScheduler(deps: EngagementDeps): EngagementScheduler {
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const counts: EngagementSummary = {
    humanOpens: 0,
    machineOpens: 0,
    humanClicks: 0,
    scannerClicks: 0,
    failed: 0,
    skipped: 0,
  };
  let stopped = false;

  const fetchOne = async (
    url: string,
    headers: Record<string, string>,
    counter: keyof EngagementSummary,
  ): Promise<void> => {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      counts.skipped += 1;
      return;
    }
    // Simulated recipients only ever reach this machine's relais.
    if (!deps.allowedHosts.includes(host)) {
      counts.skipped += 1;
      return;
    }
    try {
      // A click's redirect is never followed: its target is the sender's site, not ours.
      const response = await fetch(url, { headers, redirect: 'manual' });
      await response.arrayBuffer();
      if (response.status >= 400) counts.failed += 1;
      else counts[counter] += 1;
    } catch (error) {
      counts.failed += 1;
      deps.logger.warn(
        { err: error, event: { action: 'simulator.engagement.failed' } },
        'a simulated open or click failed',
      );
    }
  };

  const at = (ms: number, work: () => Promise<void>): void => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      const job = work().finally(() => running.delete(job));
      running.add(job);
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  return {
    schedule(profile, seed, message) {
      const { engagement } = profile;
      const urls = trackingUrlsOf(message.raw);
      if (urls.pixel === undefined && urls.links.length === 0) return;
      const random = deps.random(profile.name);
      const draw = (range: { min: number; max: number }) =>
        Math.round(range.min + random() * (range.max - range.min));
      const human = { 'user-agent': SIMULATED_AGENTS.human };
      for (const recipient of message.recipients) {
        const fate = classifyEngagement(engagement, recipient, seed);
        const pixel = urls.pixel;
        const first = urls.links[0];
        if (fate.privacyProxy && pixel !== undefined) {
          at(draw(engagement.machineDelayMs), () =>
            fetchOne(
              pixel,
              {
                'user-agent': SIMULATED_AGENTS.privacyProxy,
                'x-forwarded-for': SIMULATED_AGENTS.privacyProxyAddress,
              },
              'machineOpens',
            ),
          );
        }
        if (fate.scanner) {
          at(draw(engagement.machineDelayMs), async () => {
            await Promise.all(
              urls.links.map((link) =>
                fetchOne(link, { 'user-agent': SIMULATED_AGENTS.scanner }, 'scannerClicks'),
              ),
            );
          });
        }
        const openAt = draw(engagement.openDelayMs);
        if (fate.humanOpen && pixel !== undefined) {
          at(openAt, () => fetchOne(pixel, human, 'humanOpens'));
        }
        if (fate.humanClick && first !== undefined) {
          at(openAt + draw(engagement.clickDelayMs), () => fetchOne(first, human, 'humanClicks'));
        }
      }
    },
    pending: () => timers.size + running.size,
    summary: () => ({ ...counts }),
    async close(timeoutMs) {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (running.size === 0) return;
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise<void>((resolve) => {
          bound = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(bound);
    },
  };
}
