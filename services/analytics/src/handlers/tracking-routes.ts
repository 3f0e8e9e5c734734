import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { Router, type Request, type Response } from 'express';
import { verifyTrackingToken, type TokenSecrets, type TrackingClaims } from '@relais/mail';
import type { Logger } from '@relais/telemetry';
import {
  classifyClick,
  classifyOpen,
  type DetectionWindows,
  type EngagementRequest,
} from '../domain/machine-detection';
import type { EngagementInput, EngagementStore, TrackedMessage } from '../engagement-ports';
import type { AnalyticsLogEvent } from '../log-events';

/** What the open pixel and click redirect need. */
export interface TrackingDeps {
  store: EngagementStore;
  /** The dispatcher's tracking secret first; older ones verify during a rotation. */
  secrets: TokenSecrets;
  windows: DetectionWindows;
  /** Tokens older than this answer 404 (a click) or an unrecorded pixel. */
  linkLifetimeMs: number;
  /** Clicks of every link of a message within this window are a scanner's. */
  clickBurstMs: number;
  /** CIDRs of the load balancers whose X-Forwarded-For is believed. */
  trustedProxies: readonly string[];
  logger: Logger;
  now?: () => Date;
}

// A transparent 1×1 GIF (42 bytes).
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const NO_STORE = 'no-store, no-cache, must-revalidate, private, max-age=0';

// Static text: nothing from the request is echoed back.
const NOT_FOUND_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">' +
  '<title>Link not valid</title></head><body style="font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto">' +
  '<h1>This link is not valid</h1><p>It may have expired or been copied incompletely.</p></body></html>';

function sendPixel(res: Response): void {
  res
    .status(200)
    .set({ 'Content-Type': 'image/gif', 'Cache-Control': NO_STORE, Pragma: 'no-cache' })
    .send(PIXEL);
}

// Never a redirect for a link we cannot vouch for: the page, 404, no referrer, not cached.
function sendNotFound(res: Response): void {
  res
    .status(404)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': NO_STORE,
      'Referrer-Policy': 'no-referrer',
      'X-Robots-Tag': 'noindex',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    })
    .send(NOT_FOUND_PAGE);
}

/** The client's address: the socket's, or behind a trusted proxy the last untrusted hop. */
export function clientAddress(req: Request, trusted: BlockList): string | undefined {
  const familyOf = (ip: string) => (isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined);
  const isTrusted = (ip: string) => {
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    const family = familyOf(plain);
    return family !== undefined && trusted.check(plain, family);
  };
  let ip = req.socket.remoteAddress;
  if (ip === undefined || !isTrusted(ip)) return ip;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => familyOf(hop) !== undefined);
  while (hops.length > 0) {
    ip = hops.pop();
    if (ip !== undefined && !isTrusted(ip)) return ip;
  }
  return ip;
}

function trustedList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    const family = isIPv6(address) ? 'ipv6' : 'ipv4';
    list.addSubnet(
      address,
      prefix === undefined ? (family === 'ipv6' ? 128 : 32) : Number(prefix),
      family,
    );
  }
  return list;
}

/**
 * `GET|HEAD /o/<token>.gif` (always the 1×1 GIF, never cached; a valid token records an
 * open) and `GET|HEAD /c/<token>` (302 to the target the campaign's link table holds for
 * the signed link key; a tampered, unknown, expired or foreign token gets the 404 page,
 * never a redirect). Each fetch is recorded, replays included; unique counts move once.
 */
export function trackingRoutes(deps: TrackingDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const trusted = trustedList(deps.trustedProxies);
  const verify = (token: string, at: Date): TrackingClaims | undefined => {
    const result = verifyTrackingToken(token, deps.secrets, {
      now: at,
      maxAgeMs: deps.linkLifetimeMs,
    });
    return result.ok ? result.claims : undefined;
  };
  const requestOf = (req: Request, at: Date, deliveredAt: Date): EngagementRequest => ({
    method: req.method,
    userAgent: req.get('user-agent') ?? '',
    ip: clientAddress(req, trusted),
    at,
    deliveredAt,
  });
  const record = async (message: TrackedMessage, input: EngagementInput, burstSince?: Date) => {
    try {
      await deps.store.record(message, input, burstSince);
    } catch (error) {
      // The recipient still gets the image or the page they asked for.
      deps.logger.warn(
        {
          'event.action': 'analytics.engagement_record_failed' satisfies AnalyticsLogEvent,
          err: error,
        },
        'an open or click could not be recorded',
      );
    }
  };

  router.get('/o/:file', (req, res, next) => {
    const at = now();
    const token = req.params.file.endsWith('.gif') ? req.params.file.slice(0, -4) : '';
    const claims = verify(token, at);
    if (claims === undefined || claims.kind !== 'open') return sendPixel(res);
    const handle = async () => {
      const message = await deps.store.trackedMessage(claims.messageId);
      if (message !== undefined) {
        const request = requestOf(req, at, message.deliveredAt ?? claims.issuedAt);
        const verdict = classifyOpen(request, deps.windows);
        await record(message, {
          messageId: claims.messageId,
          kind: 'open',
          verdict,
          userAgent: request.userAgent,
          at,
        });
      }
      sendPixel(res);
    };
    handle().catch(next);
  });

  router.get('/c/:token', (req, res, next) => {
    const at = now();
    const claims = verify(req.params.token, at);
    if (claims === undefined || claims.kind !== 'click') {
      deps.logger.info(
        { 'event.action': 'analytics.tracking_link_refused' satisfies AnalyticsLogEvent },
        'click on a link relais did not sign or that expired',
      );
      return sendNotFound(res);
    }
    const handle = async () => {
      const burstSince = new Date(at.getTime() - deps.clickBurstMs);
      const context = await deps.store.clickContext(claims.messageId, claims.linkKey, burstSince);
      const target = context?.target === undefined ? undefined : safeTarget(context.target);
      if (context === undefined || target === undefined) return sendNotFound(res);
      const request = requestOf(req, at, context.message.deliveredAt ?? claims.issuedAt);
      const distinct = new Set([...context.recentLinkKeys, claims.linkKey]).size;
      const verdict = classifyClick(
        request,
        { linkCount: claims.linkCount, distinctRecentLinks: distinct },
        deps.windows,
      );
      await record(
        context.message,
        {
          messageId: claims.messageId,
          kind: 'click',
          linkKey: claims.linkKey,
          target,
          verdict,
          userAgent: request.userAgent,
          at,
        },
        burstSince,
      );
      res
        .status(302)
        .set({ Location: target, 'Cache-Control': NO_STORE, 'Referrer-Policy': 'no-referrer' })
        .end();
    };
    handle().catch(next);
  });
  return router;
}

// The dispatcher only stores http(s) targets; checked again so a row edited by hand can
// never turn the redirect into javascript: or data:.
function safeTarget(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
