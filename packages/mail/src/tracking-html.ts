import type { MessageId } from '@relais/domain';
import { RelaisError } from '@relais/domain';
import type { TokenSecret } from './signed-token';
import { MAX_TRACKED_LINKS, linkKeyOf, trackingToken } from './tracking-token';

/** Where one message's tracking URLs point and what signs them. */
export interface TrackingInput {
  /** `https://host[/prefix]` (http only on a loopback host, for embedded mode). */
  baseUrl: string;
  messageId: MessageId | string;
  secret: TokenSecret;
  now: Date;
  /** URLs starting with one of these are left alone (the one-click unsubscribe link). */
  keep?: readonly string[];
  /**
   * The recipient's address: a link whose target holds it (plain or percent-encoded) stays
   * direct, so no address is ever stored in the link table, where erasure cannot reach it.
   */
  recipient?: string;
}

/** A tracked link target, for the campaign's link table. */
export interface TrackedLink {
  key: string;
  url: string;
}

/** The HTML with links rewritten and the pixel added, and the targets behind the links. */
export interface TrackedHtml {
  html: string;
  links: TrackedLink[];
}

// href of <a> and <area>, quoted either way; only absolute http(s) targets are tracked
// (mailto:, tel:, anchors and relative links go nowhere we could redirect to).
const LINK = /(<(?:a|area)\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"'<>\s]+)\2/gi;
const NO_TRACK = /\bdata-relais-notrack\b/i;
const BODY_END = /<\/body\s*>/i;
const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };

/** Checks a tracking base URL: https, or http on a loopback host; no query or fragment. */
export function checkTrackingBase(baseUrl: string): string {
  const base = new URL(baseUrl);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname);
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && loopback)) {
    throw new RelaisError(
      'VALIDATION_FAILED',
      'the tracking base URL must be https (http only on 127.0.0.1)',
    );
  }
  if (base.search !== '' || base.hash !== '' || base.username !== '' || base.password !== '') {
    throw new RelaisError(
      'VALIDATION_FAILED',
      'the tracking base URL takes no query, fragment or credentials',
    );
  }
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
}

/**
 * Rewrites the http(s) links of an HTML part to `<base>/c/<token>` and adds an open pixel
 * `<base>/o/<token>.gif` before `</body>`. Links marked `data-relais-notrack`, links to
 * `keep` prefixes, links holding the recipient's address and links past the 255th stay
 * direct. The target is not in the URL: the
 * caller stores `links` in the campaign's link table, keyed by `linkKeyOf(url)`.
 */
export function addTracking(html: string, input: TrackingInput): TrackedHtml {
  const base = checkTrackingBase(input.baseUrl);
  const keep = [base, ...(input.keep ?? [])];
  const address = input.recipient?.toLowerCase();
  const holdsAddress = (url: string) => {
    if (address === undefined || address === '') return false;
    const lower = url.toLowerCase();
    return lower.includes(address) || lower.includes(encodeURIComponent(address));
  };
  const untracked = (tag: string, url: string) =>
    NO_TRACK.test(tag) || keep.some((prefix) => url.startsWith(prefix)) || holdsAddress(url);
  const messageId = input.messageId as MessageId;
  const found: Array<{ url: string }> = [];
  html.replace(LINK, (match, _prefix: string, _quote: string, href: string) => {
    const url = decodeEntities(href);
    if (!untracked(match, url) && found.length < MAX_TRACKED_LINKS) found.push({ url });
    return match;
  });
  const linkCount = found.length;
  let index = 0;
  const links = new Map<string, string>();
  const rewritten = html.replace(LINK, (match, prefix: string, quote: string, href: string) => {
    const url = decodeEntities(href);
    if (untracked(match, url)) return match;
    if (index >= linkCount) return match;
    index += 1;
    const linkKey = linkKeyOf(url);
    links.set(linkKey, url);
    const token = trackingToken(
      { kind: 'click', messageId, linkKey, linkIndex: index, linkCount, issuedAt: input.now },
      input.secret,
    );
    return `${prefix}${quote}${base}/c/${token}${quote}`;
  });
  const pixelToken = trackingToken(
    {
      kind: 'open',
      messageId,
      linkKey: '0',
      linkIndex: 0,
      linkCount,
      issuedAt: input.now,
    },
    input.secret,
  );
  const pixel = `<img src="${base}/o/${pixelToken}.gif" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
  const withPixel = BODY_END.test(rewritten)
    ? rewritten.replace(BODY_END, (end) => `${pixel}${end}`)
    : `${rewritten}${pixel}`;
  return { html: withPixel, links: [...links].map(([key, url]) => ({ key, url })) };
}

// Attribute values are HTML-escaped by the template engine; the target is the decoded URL.
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]+);/gi, (entity, name: string) => {
    if (!name.startsWith('#')) return ENTITIES[name.toLowerCase()] ?? entity;
    const hex = name[1] === 'x' || name[1] === 'X';
    const code = parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}
