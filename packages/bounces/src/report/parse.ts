import {
  decodeWords,
  headerValue,
  headerValues,
  normalizeNewlines,
  parseHeaders,
  parseMime,
  splitHeaderBody,
  toText,
  walk,
  type Header,
  type MimePart,
} from './mime';
import {
  ADDRESS,
  AUTOREPLY_GONE,
  AUTOREPLY_HEADERS,
  AUTOREPLY_SUBJECT,
  BLOCK_END,
  BOUNCE_SENDER,
  BOUNCE_SUBJECT,
  COMPLAINT_SUBJECT,
  HEADER_BLOCK_START,
  ORIGINAL_MESSAGE_SEPARATORS,
  RECIPIENT_LINES,
  REPLY_CODE,
  STATUS_CODE,
} from './patterns';
import { assignCommands, type SmtpCommand } from './commands';

/** How much of a bounce notice's own text `notice` keeps. */
const MAX_NOTICE_CHARS = 4000;

/** More recipients than this in one report is noise (or an attack), not a bounce list. */
const MAX_RECIPIENTS = 500;

export type ReportKind = 'bounce' | 'feedback' | 'autoreply' | 'other';

export interface ReportRecipient {
  address: string;
  /** DSN Action: failed, delayed, delivered, relayed, expanded. */
  action?: string;
  /** Enhanced status code (RFC 3463). */
  status?: string;
  /** Basic SMTP reply code of the remote server. */
  replyCode?: number;
  /** The remote server's text (or the notice's wording), unfolded onto one line. */
  diagnostic?: string;
  remoteMta?: string;
  /** The SMTP command the remote server refused, when the notice says (`in reply to RCPT TO`). */
  command?: SmtpCommand;
  finalRecipient?: string;
  originalRecipient?: string;
  lastAttemptDate?: string;
}

/** The fields of an RFC 5965 feedback report (RFC 6591 authentication-failure fields included). */
export interface FeedbackReport {
  feedbackType: string;
  userAgent?: string;
  version?: number;
  originalMailFrom?: string;
  originalRcptTo?: string;
  originalEnvelopeId?: string;
  arrivalDate?: string;
  reportingMta?: string;
  sourceIp?: string;
  sourcePort?: number;
  incidents?: number;
  reportedDomains: string[];
  reportedUris: string[];
  authenticationResults: string[];
  authFailure?: string;
  deliveryResult?: string;
  identityAlignment?: string;
  dkimDomain?: string;
  dkimIdentity?: string;
  dkimSelector?: string;
  dkimCanonicalizedHeader?: string;
  dkimCanonicalizedBody?: string;
  dkimAdspDns?: string;
  dkimSelectorDns?: string;
  spfDns?: string;
}

export interface ParsedReport {
  kind: ReportKind;
  /** Why the message is `other` (or what was odd about it). */
  reason?: string;
  recipients: ReportRecipient[];
  reportingMta?: string;
  arrivalDate?: string;
  subject?: string;
  from?: string;
  /** Message-ID of the returned message (ours), from its attached copy or headers. */
  originalMessageId?: string;
  /** Return-Path of the returned message: the VERP address that identifies our send. */
  originalEnvelopeFrom?: string;
  /** The returned message's header block (LF line ends, folding kept), when attached. */
  originalHeaders?: string;
  /** Where `originalHeaders` came from: a headers-only part, an attached message, or the body text. */
  originalHeadersFrom?: 'text/rfc822-headers' | 'message/rfc822' | 'body';
  /** Parsed fields of `originalHeaders`, names lower-cased. */
  originalHeaderFields?: Record<string, string>;
  feedback?: FeedbackReport;
  /**
   * A bounce notice's human-readable text (before the returned message), unfolded and cut
   * to 4,000 characters: where the reason is when no recipient line carries it.
   */
  notice?: string;
}

/**
 * Reads an inbound report: an RFC 3464 DSN, a non-standard bounce notice, an RFC 5965
 * feedback report or an RFC 3834 auto-reply. Total: broken or hostile input gives
 * `kind: 'other'` with a reason, never an exception. Only the first 256 KB are read.
 */
export function parseReport(raw: Buffer | string): ParsedReport {
  try {
    return parseUnsafe(raw);
  } catch (error) {
    return {
      kind: 'other',
      reason: `unparsable: ${error instanceof Error ? error.message : String(error)}`,
      recipients: [],
    };
  }
}

function parseUnsafe(raw: Buffer | string): ParsedReport {
  const input = normalizeNewlines(toText(raw));
  if (input.trim() === '') return { kind: 'other', reason: 'empty message', recipients: [] };
  const root = parseMime(input);
  if (root.headers.length === 0) {
    return { kind: 'other', reason: 'no message header', recipients: [] };
  }
  const report = parseParts(root);
  if (report.kind === 'bounce') {
    const notice = cutAtOriginal(bodyText(root));
    assignCommands(report.recipients, notice);
    const summary = unfold(notice.slice(0, 16 * 1024)).slice(0, MAX_NOTICE_CHARS);
    if (summary !== '') report.notice = summary;
  }
  return report;
}

function parseParts(root: MimePart): ParsedReport {
  const base = baseFields(root);

  const feedbackPart = findPart(root, (p) => p.contentType === 'message/feedback-report');
  const reportType = root.params['report-type']?.toLowerCase();
  if (feedbackPart !== undefined || reportType === 'feedback-report') {
    const feedback = parseFeedback(feedbackPart?.body ?? '');
    const recipients: ReportRecipient[] = [];
    const rcpt = feedback.originalRcptTo ?? base.originalHeaderFields?.to;
    const address = rcpt === undefined ? undefined : ADDRESS.exec(rcpt)?.[0];
    if (address !== undefined) recipients.push({ address });
    return {
      ...base,
      kind: 'feedback',
      recipients,
      feedback,
      ...(feedback.arrivalDate === undefined ? {} : { arrivalDate: feedback.arrivalDate }),
      ...(feedback.reportingMta === undefined ? {} : { reportingMta: feedback.reportingMta }),
    };
  }

  const statusPart = findPart(
    root,
    (p) =>
      p.contentType === 'message/delivery-status' ||
      p.contentType === 'message/global-delivery-status',
  );
  // Broken MIME can leave the delivery-status fields inside a text part: read them there.
  const inlineStatus =
    statusPart === undefined ? /^(?:Reporting-MTA|Final-Recipient):/im.exec(bodyText(root)) : null;
  if (statusPart !== undefined || inlineStatus !== null) {
    const readableText = bodyText(root);
    const dsn = parseDeliveryStatus(
      statusPart?.body ?? readableText.slice(inlineStatus?.index ?? 0),
    );
    const readable =
      statusPart === undefined ? readableText.slice(0, inlineStatus?.index) : readableText;
    // Some MTAs leave Diagnostic-Code out of the DSN; the human-readable part still has it.
    if (dsn.recipients.length > 0) {
      const fromBody = extractRecipients(cutAtOriginal(readable));
      for (const r of dsn.recipients) fillFromBody(r, fromBody);
      return dsnResult(base, dsn);
    }
    const fromBody = extractRecipients(cutAtOriginal(readable));
    if (fromBody.length > 0)
      return { ...base, ...dsn.message, kind: 'bounce', recipients: fromBody };
    return {
      ...base,
      ...dsn.message,
      kind: 'bounce',
      reason: 'delivery status without recipients',
      recipients: [],
    };
  }

  const subject = base.subject ?? '';
  const from = base.from ?? '';

  const ses = parseSesNotification(bodyText(root));
  if (ses !== undefined) return { ...base, ...ses };

  // Hotmail/Outlook JMRP and similar: the complained-about message attached, no ARF part.
  const attached = findPart(root, (p) => p.contentType === 'message/rfc822');
  if (attached?.children[0] !== undefined && COMPLAINT_SUBJECT.test(subject)) {
    const inner = attached.children[0].headers;
    const rcpt =
      headerValue(inner, 'x-hmxmroriginalrecipient') ??
      headerValue(inner, 'x-original-to') ??
      headerValue(inner, 'to');
    const address = rcpt === undefined ? undefined : ADDRESS.exec(rcpt)?.[0];
    return {
      ...base,
      kind: 'feedback',
      reason: 'complaint without an ARF report part',
      recipients: address === undefined ? [] : [{ address }],
      feedback: {
        feedbackType: 'abuse',
        reportedDomains: [],
        reportedUris: [],
        authenticationResults: headerValues(inner, 'authentication-results'),
      },
    };
  }

  const returnPath = headerValue(root.headers, 'return-path') ?? '';
  const autoreply = isAutoreply(root.headers, subject);
  const bounceSubject = BOUNCE_SUBJECT.some((p) => p.test(subject));
  // A null Return-Path marks any automatic message, auto-replies included (RFC 3834 §3.3).
  const senderLooksBounce =
    BOUNCE_SENDER.test(from) || bounceSubject || (!autoreply && /^<\s*>$/.test(returnPath.trim()));
  const text = bodyText(root);
  const notice = cutAtOriginal(text);
  const recipients = extractRecipients(notice);
  const failedHeader = headerValue(root.headers, 'x-failed-recipients');

  if (senderLooksBounce) {
    if (recipients.length === 0 && failedHeader !== undefined) {
      for (const a of failedHeader.match(new RegExp(ADDRESS.source, 'g')) ?? []) {
        recipients.push(withCodes({ address: a }, firstCodedLine(notice)));
      }
    }
    if (recipients.length === 0) {
      const to = base.originalHeaderFields?.to;
      const address = to === undefined ? undefined : ADDRESS.exec(to)?.[0];
      const diagnostic = firstCodedLine(notice) ?? firstLines(notice);
      if (address !== undefined) recipients.push(withCodes({ address }, diagnostic));
      else if (diagnostic !== undefined && looksLikeFailure(notice)) {
        return {
          ...base,
          kind: 'bounce',
          reason: 'failed recipient not found in the notice',
          recipients,
        };
      }
    }
    if (recipients.length > 0) return { ...base, kind: 'bounce', recipients };
  }

  if (autoreply) {
    if (AUTOREPLY_GONE.test(notice)) {
      const diagnostic = unfold(notice.split('\n').find((l) => AUTOREPLY_GONE.test(l)) ?? '');
      const address = ADDRESS.exec(diagnostic)?.[0] ?? ADDRESS.exec(from)?.[0];
      if (address !== undefined) {
        return {
          ...base,
          kind: 'bounce',
          reason: 'auto-reply says the mailbox is gone',
          recipients: [{ address, diagnostic }],
        };
      }
    }
    return { ...base, kind: 'autoreply', recipients: [] };
  }
  if (!autoreply && AUTOREPLY_SUBJECT.test(subject) && !senderLooksBounce) {
    return {
      ...base,
      kind: 'autoreply',
      reason: 'auto-reply subject without RFC 3834 headers',
      recipients: [],
    };
  }
  // No bounce headers, but a body that reads as a notice with a coded failure per recipient.
  const coded = recipients.filter((r) => r.replyCode !== undefined || r.status !== undefined);
  if (coded.length > 0 && looksLikeFailure(notice))
    return { ...base, kind: 'bounce', recipients: coded };
  return {
    ...base,
    kind: 'other',
    reason: 'no delivery status and no recognizable bounce text',
    recipients: [],
  };
}

function baseFields(root: MimePart): Omit<ParsedReport, 'kind' | 'recipients'> {
  const out: Omit<ParsedReport, 'kind' | 'recipients'> = {};
  const subject = headerValue(root.headers, 'subject');
  if (subject !== undefined) out.subject = decodeWords(subject);
  const from = headerValue(root.headers, 'from');
  if (from !== undefined) out.from = decodeWords(from);
  const original = findOriginal(root);
  if (original !== undefined) {
    out.originalHeaders = original.raw;
    out.originalHeadersFrom = original.from;
    const fields: Record<string, string> = {};
    for (const h of original.headers) fields[h.name] ??= h.value;
    out.originalHeaderFields = fields;
    if (fields['message-id'] !== undefined) out.originalMessageId = fields['message-id'];
    const rp = fields['return-path'];
    const envelope = rp === undefined ? undefined : ADDRESS.exec(rp)?.[0];
    if (envelope !== undefined) out.originalEnvelopeFrom = envelope;
  }
  return out;
}

/** The returned message's header block: an attached part, else a copy inlined in the text. */
function findOriginal(
  root: MimePart,
):
  | { raw: string; headers: Header[]; from: NonNullable<ParsedReport['originalHeadersFrom']> }
  | undefined {
  const headersPart = findPart(root, (p) => p.contentType === 'text/rfc822-headers');
  if (headersPart !== undefined)
    return {
      raw: headersPart.body,
      headers: parseHeaders(headersPart.body),
      from: 'text/rfc822-headers',
    };
  const messagePart = findPart(
    root,
    (p) => p.contentType === 'message/rfc822' || p.contentType === 'message/global',
  );
  if (messagePart !== undefined) {
    const { head } = splitHeaderBody(messagePart.body);
    return { raw: head + '\n', headers: parseHeaders(head), from: 'message/rfc822' };
  }
  const text = bodyText(root);
  const lines = text.split('\n');
  // Each candidate parses at most 64 KB from its line, and only a few candidates are tried:
  // a body of thousands of header-like pairs must not cost a quadratic scan.
  let offset = 0;
  let attempts = 0;
  for (let i = 0; i < lines.length - 2 && attempts < 8; i++) {
    const line = lines[i]!;
    const next = lines[i + 1]!;
    const startsBlock =
      HEADER_BLOCK_START.test(line) &&
      (HEADER_BLOCK_START.test(next) || (/^\s/.test(next) && i > 0 && lines[i - 1]!.trim() === ''));
    if (startsBlock) {
      attempts += 1;
      const { head } = splitHeaderBody(text.slice(offset, offset + 64 * 1024));
      const headers = parseHeaders(head);
      if (headers.length >= 3) return { raw: head + '\n', headers, from: 'body' };
    }
    offset += line.length + 1;
  }
  return undefined;
}

function findPart(root: MimePart, test: (p: MimePart) => boolean): MimePart | undefined {
  let found: MimePart | undefined;
  walk(root, (p) => {
    if (found === undefined && test(p)) found = p;
  });
  return found;
}

/** The human-readable text of the notice: its text/plain parts (HTML stripped if that is all). */
const bodyTexts = new WeakMap<MimePart, string>();

function bodyText(root: MimePart): string {
  const cached = bodyTexts.get(root);
  if (cached !== undefined) return cached;
  const text = readableText(root);
  bodyTexts.set(root, text);
  return text;
}

function readableText(root: MimePart): string {
  const plain: string[] = [];
  const html: string[] = [];
  const visit = (p: MimePart): void => {
    if (p.contentType === 'message/rfc822' || p.contentType === 'message/global') return;
    if (p.children.length > 0) {
      if (p.body.trim() !== '' && p.contentType.startsWith('multipart/')) plain.push(p.body);
      for (const c of p.children) visit(c);
      return;
    }
    if (p.contentType === 'text/html') html.push(p.body);
    else if (p.contentType.startsWith('text/') && p.contentType !== 'text/rfc822-headers')
      plain.push(p.body);
  };
  visit(root);
  if (plain.join('').trim() !== '') return plain.join('\n');
  return html
    .join('\n')
    .replace(/<(?:br|p|div|tr|li)[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

function cutAtOriginal(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (ORIGINAL_MESSAGE_SEPARATORS.some((p) => p.test(line))) return lines.slice(0, i).join('\n');
    if (
      i > 0 &&
      lines[i - 1]!.trim() === '' &&
      HEADER_BLOCK_START.test(line) &&
      HEADER_BLOCK_START.test(lines[i + 1] ?? '')
    ) {
      return lines.slice(0, i).join('\n');
    }
  }
  return text;
}

/** Recipient blocks of a text notice: a line naming the address, then its diagnostic lines. */
export function extractRecipients(notice: string): ReportRecipient[] {
  const lines = notice.split('\n').slice(0, 2000);
  const blocks: { address: string; lines: string[]; system: string }[] = [];
  let current: { address: string; lines: string[]; system: string } | undefined;
  let blank = 0;
  for (const line of lines) {
    const start = recipientStart(line);
    if (start !== undefined) {
      current = {
        address: start.address,
        lines: start.rest === '' ? [] : [start.rest],
        system: start.system,
      };
      blocks.push(current);
      blank = 0;
      continue;
    }
    if (current === undefined) continue;
    if (BLOCK_END.some((p) => p.test(line))) {
      current = undefined;
      continue;
    }
    if (line.trim() === '') {
      blank += 1;
      if (
        blank >= 2 ||
        (current.lines.length > 0 && current.system !== 'bare' && current.system !== 'angle')
      )
        current = undefined;
      continue;
    }
    blank = 0;
    if (current.lines.length < 12) current.lines.push(line);
  }
  const byAddress = new Map<string, ReportRecipient>();
  for (const block of blocks) {
    const address = normalizeAddress(block.address);
    const diagnostic = unfold(block.lines.join(' '));
    const candidate = withCodes({ address }, diagnostic === '' ? undefined : diagnostic);
    const known = byAddress.get(address);
    if (known === undefined || score(candidate) > score(known)) byAddress.set(address, candidate);
  }
  // Prose matches only count when no structured line named anyone.
  const structured = new Set(
    blocks.filter((b) => b.system !== 'prose').map((b) => normalizeAddress(b.address)),
  );
  return [...byAddress.values()]
    .filter((r) => structured.size === 0 || structured.has(r.address))
    .slice(0, MAX_RECIPIENTS);
}

function normalizeAddress(address: string): string {
  return address.toLowerCase().replace(/[.,;:]+$/, '');
}

function score(r: ReportRecipient): number {
  return (
    (r.replyCode === undefined ? 0 : 2) +
    (r.status === undefined ? 0 : 2) +
    (r.diagnostic === undefined ? 0 : 1)
  );
}

function recipientStart(
  line: string,
): { address: string; rest: string; system: string } | undefined {
  if (line.length > 1000) return undefined;
  for (const { system, pattern } of RECIPIENT_LINES) {
    const m = pattern.exec(line);
    if (m?.[1] !== undefined && ADDRESS.test(m[1])) {
      return { address: ADDRESS.exec(m[1])![0], rest: (m[2] ?? '').trim(), system };
    }
  }
  return undefined;
}

function withCodes(r: ReportRecipient, diagnostic: string | undefined): ReportRecipient {
  if (diagnostic === undefined || diagnostic === '') return r;
  const out: ReportRecipient = { ...r, diagnostic };
  const status = STATUS_CODE.exec(diagnostic)?.[1];
  const code = REPLY_CODE.exec(diagnostic)?.[1];
  if (code !== undefined) out.replyCode = Number(code);
  if (status !== undefined && (code === undefined || status[0] === code[0])) out.status = status;
  return out;
}

function fillFromBody(r: ReportRecipient, fromBody: ReportRecipient[]): void {
  const match = fromBody.find((b) => b.address === r.address.toLowerCase());
  if (match === undefined) return;
  if (r.diagnostic === undefined && match.diagnostic !== undefined) r.diagnostic = match.diagnostic;
  if (r.replyCode === undefined && match.replyCode !== undefined) r.replyCode = match.replyCode;
  if (r.status === undefined && match.status !== undefined) r.status = match.status;
}

function firstCodedLine(notice: string): string | undefined {
  const line = notice
    .split('\n')
    .find((l) => STATUS_CODE.test(l) || /(?:^|\s)[45]\d\d[\s-]/.test(l));
  return line === undefined ? undefined : unfold(line);
}

function firstLines(notice: string): string | undefined {
  const text = unfold(notice).slice(0, 500);
  return text === '' ? undefined : text;
}

function looksLikeFailure(notice: string): boolean {
  return /could not be delivered|couldn't be delivered|undeliver|delivery (?:has )?failed|failed|permanent|rejected|unable to deliver|not (?:be )?delivered|user unknown|does not exist|returned/i.test(
    notice,
  );
}

function isAutoreply(headers: Header[], subject: string): boolean {
  for (const { name, pattern } of AUTOREPLY_HEADERS) {
    const value = headerValue(headers, name);
    if (value !== undefined && pattern.test(value)) {
      // Auto-Submitted: auto-replied is also what MTAs put on DSNs; the subject tells them apart.
      if (name === 'auto-submitted' && BOUNCE_SUBJECT.some((p) => p.test(subject))) continue;
      return true;
    }
  }
  return AUTOREPLY_SUBJECT.test(subject);
}

export function unfold(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

interface DeliveryStatus {
  message: { reportingMta?: string; arrivalDate?: string };
  recipients: ReportRecipient[];
}

/** RFC 3464 §2: a per-message block, then one block per recipient, separated by blank lines. */
export function parseDeliveryStatus(body: string): DeliveryStatus {
  const blocks = body
    .split(/\n[ \t]*\n/)
    .map((b) => parseHeaders(b.replace(/^\n+/, '')))
    .filter((h) => h.length > 0)
    .slice(0, 200);
  const message: DeliveryStatus['message'] = {};
  const recipients: ReportRecipient[] = [];
  for (const fields of blocks) {
    const get = (name: string): string | undefined => headerValue(fields, name);
    const final = get('final-recipient') ?? get('original-recipient');
    if (final === undefined) {
      const mta = get('reporting-mta');
      if (mta !== undefined) message.reportingMta = typed(mta);
      const arrival = get('arrival-date');
      if (arrival !== undefined) message.arrivalDate = arrival;
      continue;
    }
    const address = ADDRESS.exec(typed(final))?.[0] ?? typed(final);
    const r: ReportRecipient = { address, finalRecipient: typed(final) };
    const original = get('original-recipient');
    if (original !== undefined) r.originalRecipient = typed(original);
    const action = get('action');
    if (action !== undefined) r.action = action.toLowerCase().split(/\s/)[0]!;
    const status = STATUS_CODE.exec(get('status') ?? '')?.[1];
    const diagnostic = get('diagnostic-code');
    if (diagnostic !== undefined) {
      const text = typed(diagnostic);
      r.diagnostic = text;
      const code = REPLY_CODE.exec(text)?.[1];
      if (code !== undefined) r.replyCode = Number(code);
    }
    // The Status field is the reporting MTA's verdict; the diagnostic's code, when present, is the remote server's.
    const fromText = r.diagnostic === undefined ? undefined : STATUS_CODE.exec(r.diagnostic)?.[1];
    const chosen =
      status === undefined || (/\.0\.0$/.test(status) && fromText !== undefined)
        ? (fromText ?? status)
        : status;
    if (chosen !== undefined) r.status = chosen;
    const remote = get('remote-mta');
    if (remote !== undefined) r.remoteMta = typed(remote);
    const last = get('last-attempt-date');
    if (last !== undefined) r.lastAttemptDate = last;
    recipients.push(r);
  }
  return { message, recipients };
}

/** `rfc822; user@host` → `user@host`; `dns; mx.example` → `mx.example`. */
function typed(value: string): string {
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(semi + 1)).trim();
}

function dsnResult(
  base: Omit<ParsedReport, 'kind' | 'recipients'>,
  dsn: DeliveryStatus,
): ParsedReport {
  const out: ParsedReport = { ...base, ...dsn.message, kind: 'bounce', recipients: dsn.recipients };
  const actions = dsn.recipients.map((r) => r.action);
  if (
    actions.length > 0 &&
    actions.every((a) => a === 'delivered' || a === 'relayed' || a === 'expanded')
  ) {
    out.kind = 'other';
    out.reason = 'delivery status reports success (delivered, relayed or expanded)';
  }
  return out;
}

/** RFC 5965 §3.1 / RFC 6591 fields of a message/feedback-report part. */
export function parseFeedback(body: string): FeedbackReport {
  const fields = parseHeaders(body.replace(/^\n+/, ''));
  const get = (name: string): string | undefined => headerValue(fields, name);
  const raw = (name: string): string | undefined =>
    fields.find((f) => f.name === name)?.raw.replace(/\s+$/, '');
  const all = (name: string): string[] =>
    fields.filter((f) => f.name === name).map((f) => f.raw.replace(/\s+$/, ''));
  const report: FeedbackReport = {
    feedbackType: (get('feedback-type') ?? 'other').toLowerCase(),
    reportedDomains: fields.filter((f) => f.name === 'reported-domain').map((f) => f.value),
    reportedUris: fields.filter((f) => f.name === 'reported-uri').map((f) => f.value),
    authenticationResults: all('authentication-results'),
  };
  const set = <K extends keyof FeedbackReport>(
    key: K,
    value: FeedbackReport[K] | undefined,
  ): void => {
    if (value !== undefined) report[key] = value;
  };
  set('userAgent', get('user-agent'));
  const version = Number.parseInt(get('version') ?? '', 10);
  set('version', Number.isFinite(version) ? version : undefined);
  set('originalMailFrom', get('original-mail-from'));
  set('originalRcptTo', get('original-rcpt-to'));
  set('originalEnvelopeId', get('original-envelope-id'));
  set('arrivalDate', get('arrival-date') ?? get('received-date'));
  const mta = get('reporting-mta');
  set('reportingMta', mta === undefined ? undefined : typed(mta));
  // `Source-IP: 192.0.2.1 (host.example)`: the comment is a reverse lookup, not the address.
  set('sourceIp', get('source-ip')?.replace(/\s*\(.*$/, ''));
  const port = Number.parseInt(get('source-port') ?? '', 10);
  set('sourcePort', Number.isFinite(port) ? port : undefined);
  const incidents = Number.parseInt(get('incidents') ?? '', 10);
  set('incidents', Number.isFinite(incidents) ? incidents : undefined);
  set('authFailure', get('auth-failure')?.toLowerCase());
  set('deliveryResult', get('delivery-result')?.toLowerCase());
  set('identityAlignment', get('identity-alignment')?.toLowerCase());
  set('dkimDomain', get('dkim-domain'));
  set('dkimIdentity', get('dkim-identity'));
  set('dkimSelector', get('dkim-selector'));
  set('dkimCanonicalizedHeader', raw('dkim-canonicalized-header'));
  set('dkimCanonicalizedBody', raw('dkim-canonicalized-body'));
  set('dkimAdspDns', get('dkim-adsp-dns'));
  set('dkimSelectorDns', get('dkim-selector-dns'));
  set('spfDns', get('spf-dns'));
  return report;
}

/**
 * Amazon SES notifications (SNS JSON mailed to an endpoint). Read with regular expressions
 * over the unescaped text, not JSON.parse: mail transport folds and truncates the JSON.
 */
function parseSesNotification(
  text: string,
): Pick<ParsedReport, 'kind' | 'recipients' | 'reason'> | undefined {
  const plain = text
    .slice(0, 64 * 1024)
    .replace(/\\"/g, '"')
    .replace(/\n\s*/g, '');
  const type = /"notificationType"\s*:\s*"(Bounce|Complaint|Delivery)"/.exec(plain)?.[1];
  if (type === undefined) return undefined;
  const list =
    type === 'Bounce'
      ? 'bouncedRecipients'
      : type === 'Complaint'
        ? 'complainedRecipients'
        : 'recipients';
  const section = new RegExp(`"${list}"\\s*:\\s*\\[([^\\]]*)\\]`).exec(plain)?.[1] ?? '';
  const recipients: ReportRecipient[] = [];
  for (const object of section.split('}').slice(0, 100)) {
    const field = (name: string): string | undefined =>
      new RegExp(`"${name}"\\s*:\\s*"([^"]*)"`).exec(object)?.[1];
    const address = field('emailAddress') ?? ADDRESS.exec(object)?.[0];
    if (address === undefined) continue;
    const r: ReportRecipient = { address };
    const action = field('action');
    if (action !== undefined) r.action = action;
    const diagnostic = field('diagnosticCode');
    const withText = withCodes(r, diagnostic === undefined ? undefined : typed(diagnostic));
    const status = field('status');
    if (status !== undefined && STATUS_CODE.test(status)) withText.status = status;
    recipients.push(withText);
  }
  if (type === 'Delivery') {
    return { kind: 'other', reason: 'Amazon SES delivery notification', recipients };
  }
  return { kind: type === 'Bounce' ? 'bounce' : 'feedback', recipients };
}
