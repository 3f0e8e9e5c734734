import { Router, type Response } from 'express';
import type { MessageId } from '@relais/domain';
import { verifyUnsubscribeToken, type TokenSecrets } from '@relais/mail';
import type { Logger } from '@relais/telemetry';
import { CONFIRM_PAGE, DONE_PAGE, INVALID_PAGE } from '../domain/unsubscribe-pages';
import type { AnalyticsLogEvent } from '../log-events';
import type { UnsubscribeStore } from '../ports';

/** What the unsubscribe routes need. */
export interface UnsubscribeDeps {
  store: UnsubscribeStore;
  /** The dispatcher's unsubscribe secret first; older ones still verify during a rotation. */
  secrets: TokenSecrets;
  logger: Logger;
  now?: () => Date;
}

// No cookie, no redirect, nothing cached or indexed, no referrer leaving the page, no
// script: the page asks and posts back to itself, and that is all it can do.
function send(res: Response, status: number, html: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Robots-Tag': 'noindex',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    })
    .send(html);
}

/**
 * `GET /u/<token>` and `POST /u/<token>`: RFC 8058 one-click unsubscribe. The token (an
 * HMAC over the message id, no address in it) is the whole authority: a forged or edited
 * one changes nothing. GET only shows the confirmation page, so mail scanners that fetch
 * links unsubscribe nobody; POST (a mail client's one-click, or the page's button)
 * unsubscribes and answers with the same page every time, replays included.
 */
export function oneClickUnsubscribe(deps: UnsubscribeDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const verify = (token: string): MessageId | undefined => {
    const result = verifyUnsubscribeToken(token, deps.secrets);
    return result.ok ? result.messageId : undefined;
  };

  router.get('/u/:token', (req, res) => {
    const valid = verify(req.params.token) !== undefined;
    send(res, valid ? 200 : 404, valid ? CONFIRM_PAGE : INVALID_PAGE);
  });

  router.post('/u/:token', (req, res, next) => {
    const messageId = verify(req.params.token);
    if (messageId === undefined) {
      deps.logger.warn(
        { 'event.action': 'analytics.unsubscribe_refused' satisfies AnalyticsLogEvent },
        'unsubscribe with a token relais did not sign',
      );
      send(res, 404, INVALID_PAGE);
      return;
    }
    deps.store.unsubscribe(messageId, now(), req.socket.remoteAddress).then((result) => {
      // Each unsubscribe is a ledger row and an event, not a log line.
      send(
        res,
        result.kind === 'unknown' ? 404 : 200,
        result.kind === 'unknown' ? INVALID_PAGE : DONE_PAGE,
      );
    }, next);
  });
  return router;
}
