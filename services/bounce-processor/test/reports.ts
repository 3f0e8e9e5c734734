/**
 * Hand-written inbound reports, as a receiving system sends them back: an RFC 3464 DSN
 * about one recipient, an RFC 5965 ARF complaint and an RFC 3834 auto-reply. CRLF lines, as
 * the inbound listener stores them.
 */

const crlf = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');

/** The header block of the message relais sent. */
export function originalHeaders(o: {
  returnPath: string;
  messageId: string;
  to: string;
}): string[] {
  return [
    `Return-Path: <${o.returnPath}>`,
    `Message-ID: ${o.messageId}`,
    'From: news@mail.relais.test',
    `To: ${o.to}`,
    'Subject: Hello',
  ];
}

/** A DSN: `action` failed (or delayed), the remote server's status and diagnostic. */
export function dsn(o: {
  returnPath: string;
  messageId: string;
  recipient: string;
  status: string;
  diagnostic: string;
  action?: string;
}): Buffer {
  return crlf([
    'From: MAILER-DAEMON@mx.example.org',
    `To: ${o.returnPath}`,
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'I am sorry to have to inform you that your message could not be delivered.',
    '',
    '--b1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Action: ${o.action ?? 'failed'}`,
    `Status: ${o.status}`,
    `Diagnostic-Code: smtp; ${o.diagnostic}`,
    '',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    ...originalHeaders({ returnPath: o.returnPath, messageId: o.messageId, to: o.recipient }),
    '',
    '--b1--',
  ]);
}

/** An ARF complaint about the message (headers only, as feedback loops send them). */
export function arf(o: {
  returnPath: string;
  messageId: string;
  recipient: string;
  feedbackAddress: string;
  userAgent?: string;
}): Buffer {
  return crlf([
    'From: fbl@feedback.example.org',
    `To: ${o.feedbackAddress}`,
    'Subject: Complaint about message',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"',
    '',
    '--b2',
    'Content-Type: text/plain',
    '',
    'This is an email abuse report.',
    '',
    '--b2',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    `User-Agent: ${o.userAgent ?? 'ExampleFBL/1.0'}`,
    'Version: 1',
    `Original-Mail-From: <${o.returnPath}>`,
    `Original-Rcpt-To: <${o.recipient}>`,
    'Arrival-Date: Thu, 26 Nov 2026 10:00:00 +0000',
    '',
    '--b2',
    'Content-Type: text/rfc822-headers',
    '',
    ...originalHeaders({ returnPath: o.returnPath, messageId: o.messageId, to: o.recipient }),
    '',
    '--b2--',
  ]);
}

/** An RFC 3834 auto-reply. */
export function autoreply(to: string): Buffer {
  return crlf([
    'From: reader@example.org',
    `To: ${to}`,
    'Subject: Out of office',
    'Auto-Submitted: auto-replied',
    '',
    'I am away until Monday.',
  ]);
}
