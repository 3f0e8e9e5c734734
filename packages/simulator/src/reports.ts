import { createHash } from 'node:crypto';
import type { AsyncBounceFormat, AsyncBounceReason, ProviderProfile } from './profile';

/** What the original message looked like when the provider accepted it. */
export interface ReportSource {
  /** The reporting provider's host name (Reporting-MTA, Received). */
  hostname: string;
  /** The envelope sender: the VERP return path the DSN goes to. */
  mailFrom: string;
  recipient: string;
  clientAddress: string;
  receivedAtMs: number;
  raw: Buffer;
}

/** A finished report: its raw bytes and the envelope it travels with. */
export interface BuiltReport {
  /** '' is the null sender (`MAIL FROM:<>`), which RFC 3464 requires for a DSN. */
  envelopeFrom: string;
  envelopeTo: string;
  raw: Buffer;
}

interface ReasonText {
  status: string;
  reply: string;
  /** Exchange's own resolver code, quoted in its NDRs. */
  exchange: string;
  gmailTitle: string;
  gmailText: string;
  /** Gmail answers with its own wording and a help link, ending in `- gsmtp`. */
  gmailReply: string;
}

const REASONS: Record<AsyncBounceReason, ReasonText> = {
  userunknown: {
    status: '5.1.1',
    reply: '550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table',
    exchange:
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    gmailTitle: 'Address not found',
    gmailText:
      "Your message wasn't delivered to {rcpt} because the address couldn't be found, or is unable to receive mail.",
    gmailReply:
      "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser - gsmtp",
  },
  mailboxfull: {
    status: '5.2.2',
    reply: '552 5.2.2 <{rcpt}>: Mailbox full, over quota',
    exchange: '552 5.2.2 STOREDRV.Deliver; mailbox full',
    gmailTitle: 'Inbox full',
    gmailText:
      "Your message couldn't be delivered to {rcpt} because the recipient's inbox is out of storage space.",
    gmailReply:
      "552 5.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
  },
  spamdetected: {
    status: '5.7.1',
    reply: '550 5.7.1 Message rejected as spam by content filter',
    exchange: '550 5.7.1 STOREDRV.Deliver; message rejected as spam',
    gmailTitle: 'Message blocked',
    gmailText:
      'Your message to {rcpt} has been blocked. The message was identified as likely spam.',
    gmailReply:
      '550 5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError - gsmtp',
  },
};

/** The format a profile writes its bounces in, following the provider it imitates. */
export function bounceFormatOf(profile: ProviderProfile): AsyncBounceFormat {
  if (profile.asyncBounceFormat !== null) return profile.asyncBounceFormat;
  if (/gmail|google/.test(profile.name)) return 'gmail';
  if (/outlook|hotmail|live|office|exchange|microsoft/.test(profile.name)) return 'exchange';
  return 'rfc3464-postfix';
}

/** The SMTP status of a reason, e.g. `5.1.1`. */
export function bounceStatusOf(reason: AsyncBounceReason): string {
  return REASONS[reason].status;
}

const CRLF = '\r\n';

/** RFC 5322 date in UTC, as MTAs write it. */
function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

// Stable per report: the same run yields the same bytes, which keeps test failures replayable.
function token(parts: readonly string[], length: number): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, length);
}

/** The header block of a message, without the separating empty line. */
export function headerBlock(raw: Buffer): string {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const head = end === -1 ? text : text.slice(0, end);
  return head.replace(/\r?\n/g, CRLF);
}

/** One header's unfolded value, or null. */
export function headerValue(raw: Buffer, name: string): string | null {
  const unfolded = headerBlock(raw).replace(/\r\n[ \t]+/g, ' ');
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded);
  return match?.[1]?.trim() ?? null;
}

function returnedHeaders(source: ReportSource): string {
  return `Return-Path: <${source.mailFrom}>${CRLF}${headerBlock(source.raw)}`;
}

function multipartReport(input: {
  headers: string[];
  boundary: string;
  reportType: 'delivery-status' | 'feedback-report';
  human: string;
  machineType: string;
  machine: string;
  returnedType: string;
  returned: string;
}): Buffer {
  const b = input.boundary;
  const lines = [
    ...input.headers,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=${input.reportType};${CRLF} boundary="${b}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
    input.human,
    '',
    `--${b}`,
    `Content-Type: ${input.machineType}`,
    '',
    input.machine,
    '',
    `--${b}`,
    `Content-Type: ${input.returnedType}`,
    '',
    input.returned,
    '',
    `--${b}--`,
    '',
  ];
  return Buffer.from(lines.join(CRLF).replace(/\r?\n/g, CRLF), 'utf8');
}

/**
 * A later bounce of `source.recipient`, as the system `format` imitates writes it: RFC 3464
 * reports for Postfix, Gmail and Exchange, Exim's plain-text body with the message copied.
 */
export function buildDsn(
  source: ReportSource,
  format: AsyncBounceFormat,
  reason: AsyncBounceReason,
  nowMs: number,
): BuiltReport {
  const text = REASONS[reason];
  const rcpt = source.recipient;
  const reply = text.reply.replaceAll('{rcpt}', rcpt);
  const id = token([source.mailFrom, rcpt, String(source.receivedAtMs), format], 16);
  const host = source.hostname;
  const date = rfc5322Date(nowMs);
  const originalId = headerValue(source.raw, 'Message-ID');
  const subject = headerValue(source.raw, 'Subject');
  const common = [`Date: ${date}`, `To: <${source.mailFrom}>`, 'Auto-Submitted: auto-replied'];
  const perMessage = [
    `Reporting-MTA: dns; ${host}`,
    `Arrival-Date: ${rfc5322Date(source.receivedAtMs)}`,
  ];
  const perRecipient = (diagnostic: string): string[] => [
    `Final-Recipient: rfc822; ${rcpt}`,
    `Original-Recipient: rfc822; ${rcpt}`,
    'Action: failed',
    `Status: ${text.status}`,
    `Remote-MTA: dns; ${host}`,
    `Diagnostic-Code: smtp; ${diagnostic}`,
    `Last-Attempt-Date: ${date}`,
  ];
  const envelope = { envelopeFrom: '', envelopeTo: source.mailFrom };

  if (format === 'exim') {
    const body = [
      `Received: from mail by ${host} with local (Exim 4.97)`,
      `\tid ${id.slice(0, 6)}-${id.slice(6, 12)}-${id.slice(12, 14).toUpperCase()}`,
      `\tfor ${source.mailFrom}; ${date}`,
      ...common,
      `Message-Id: <E${id.toUpperCase()}@${host}>`,
      `X-Failed-Recipients: ${rcpt}`,
      `From: Mail Delivery System <Mailer-Daemon@${host}>`,
      'Subject: Mail delivery failed: returning message to sender',
      '',
      'This message was created automatically by mail delivery software.',
      '',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
      '',
      `  ${rcpt}`,
      '    SMTP error from remote mail server after end of data:',
      `    ${reply}`,
      '',
      '------ This is a copy of the message, including all the headers. ------',
      '',
      returnedHeaders(source),
      '',
      bodyOf(source.raw),
    ];
    return { ...envelope, raw: Buffer.from(body.join(CRLF).replace(/\r?\n/g, CRLF), 'utf8') };
  }

  if (format === 'gmail') {
    const gmailReply = text.gmailReply;
    return {
      ...envelope,
      raw: multipartReport({
        headers: [
          ...common,
          'From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
          `Message-ID: <${id}.${source.receivedAtMs}@mx.google.com>`,
          'Subject: Delivery Status Notification (Failure)',
          `X-Failed-Recipients: ${rcpt}`,
          'References: ' + (originalId ?? `<${id}@unknown>`),
          ...(originalId === null ? [] : [`In-Reply-To: ${originalId}`]),
        ],
        boundary: `000000000000${id}`,
        reportType: 'delivery-status',
        human: [
          `** ${text.gmailTitle} **`,
          '',
          text.gmailText.replaceAll('{rcpt}', rcpt),
          '',
          'The response from the remote server was:',
          gmailReply,
        ].join(CRLF),
        machineType: 'message/delivery-status',
        machine: [
          `Reporting-MTA: dns; googlemail.com`,
          `Received-From-MTA: dns; ${source.clientAddress}`,
          `Arrival-Date: ${rfc5322Date(source.receivedAtMs)}`,
          '',
          ...perRecipient(gmailReply),
        ].join(CRLF),
        returnedType: 'text/rfc822-headers',
        returned: returnedHeaders(source),
      }),
    };
  }

  if (format === 'exchange') {
    const domain = rcpt.slice(rcpt.lastIndexOf('@') + 1);
    return {
      ...envelope,
      raw: multipartReport({
        headers: [
          ...common,
          `From: Microsoft Outlook <postmaster@${domain}>`,
          `Message-ID: <${id}@${host}>`,
          `Subject: Undeliverable: ${subject ?? ''}`,
          'Content-Language: en-US',
          'X-MS-Exchange-Message-Is-Ndr:',
          `X-MS-Exchange-Organization-SCL: -1`,
          ...(originalId === null ? [] : [`In-Reply-To: ${originalId}`]),
        ],
        boundary: `${id}_`,
        reportType: 'delivery-status',
        human: [
          "Your message to {rcpt} couldn't be delivered.".replaceAll('{rcpt}', rcpt),
          '',
          'Delivery has failed to these recipients or groups:',
          '',
          rcpt,
          '',
          'Diagnostic information for administrators:',
          '',
          `Generating server: ${host}`,
          '',
          rcpt,
          `Remote Server returned '${text.exchange}'`,
          '',
          'Original message headers:',
          '',
          returnedHeaders(source),
        ].join(CRLF),
        machineType: 'message/delivery-status',
        machine: [
          ...perMessage,
          `X-MS-Exchange-Original-Arrival-Time: ${rfc5322Date(source.receivedAtMs)}`,
          '',
          ...perRecipient(text.exchange),
          `X-Display-Name: ${rcpt}`,
        ].join(CRLF),
        returnedType: 'text/rfc822-headers',
        returned: returnedHeaders(source),
      }),
    };
  }

  return {
    ...envelope,
    raw: multipartReport({
      headers: [
        ...common,
        `From: MAILER-DAEMON@${host} (Mail Delivery System)`,
        `Message-Id: <${id}@${host}>`,
        'Subject: Undelivered Mail Returned to Sender',
      ],
      boundary: `${id.slice(0, 10).toUpperCase()}.${Math.floor(nowMs / 1000)}/${host}`,
      reportType: 'delivery-status',
      human: [
        `This is the mail system at host ${host}.`,
        '',
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients. It's attached below.",
        '',
        'For further assistance, please send mail to postmaster.',
        '',
        'If you do so, please include this problem report. You can',
        'delete your own text from the attached returned message.',
        '',
        '                   The mail system',
        '',
        `<${rcpt}>: host ${host}[${source.clientAddress}] said: ${reply} (in reply to end of DATA command)`,
      ].join(CRLF),
      machineType: 'message/delivery-status',
      machine: [
        ...perMessage,
        `X-Postfix-Queue-ID: ${id.slice(0, 10).toUpperCase()}`,
        `X-Postfix-Sender: rfc822; ${source.mailFrom}`,
        '',
        ...perRecipient(`${reply}`),
      ].join(CRLF),
      returnedType: 'text/rfc822-headers',
      returned: returnedHeaders(source),
    }),
  };
}

function bodyOf(raw: Buffer): string {
  const text = raw.toString('utf8');
  const match = /\r?\n\r?\n/.exec(text);
  return match === null ? '' : text.slice(match.index + match[0].length);
}

// Large originals travel as headers only, as feedback loops do to keep reports small.
const MAX_ATTACHED_BYTES = 64 * 1024;

/**
 * An abuse report about `source.recipient` complaining, in the Abuse Reporting Format
 * (RFC 5965), sent from the provider's FBL address to `feedbackAddress`.
 */
export function buildArf(
  source: ReportSource,
  feedbackAddress: string,
  userAgent: string,
  nowMs: number,
): BuiltReport {
  const id = token([source.mailFrom, source.recipient, String(source.receivedAtMs), 'arf'], 16);
  const from = headerValue(source.raw, 'From') ?? source.mailFrom;
  const fromDomain = /@([^>\s]+)/.exec(from)?.[1] ?? source.mailFrom.split('@')[1] ?? '';
  const whole = source.raw.length <= MAX_ATTACHED_BYTES;
  const raw = multipartReport({
    headers: [
      `Date: ${rfc5322Date(nowMs)}`,
      `From: Feedback Loop <fbl@${source.hostname}>`,
      `To: <${feedbackAddress}>`,
      `Message-ID: <${id}.arf@${source.hostname}>`,
      `Subject: FW: ${headerValue(source.raw, 'Subject') ?? 'complaint'}`,
    ],
    boundary: `arf_${id}`,
    reportType: 'feedback-report',
    human: [
      `This is an email abuse report for an email message received from IP ${source.clientAddress} on ${rfc5322Date(source.receivedAtMs)}.`,
      'For more information about this format please see https://www.rfc-editor.org/rfc/rfc5965.',
    ].join(CRLF),
    machineType: 'message/feedback-report',
    machine: [
      'Feedback-Type: abuse',
      `User-Agent: ${userAgent}`,
      'Version: 1',
      `Original-Mail-From: <${source.mailFrom}>`,
      `Original-Rcpt-To: <${source.recipient}>`,
      `Arrival-Date: ${rfc5322Date(source.receivedAtMs)}`,
      `Reporting-MTA: dns; ${source.hostname}`,
      `Source-IP: ${source.clientAddress}`,
      `Reported-Domain: ${fromDomain.toLowerCase()}`,
    ].join(CRLF),
    returnedType: whole ? 'message/rfc822' : 'text/rfc822-headers',
    returned: whole
      ? `${returnedHeaders(source)}${CRLF}${CRLF}${bodyOf(source.raw)}`
      : returnedHeaders(source),
  });
  return { envelopeFrom: `fbl@${source.hostname}`, envelopeTo: feedbackAddress, raw };
}
