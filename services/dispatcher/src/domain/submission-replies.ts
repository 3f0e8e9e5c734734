import type { ErrorCode } from '@relais/domain';

/** An SMTP reply: code, RFC 3463 enhanced status, and whether the error's text is shown. */
export interface SmtpReply {
  code: number;
  enhanced: string;
  /** The caller's own fault: the error message tells it what to fix. Else a generic text. */
  showMessage: boolean;
}

const LOCAL_ERROR: SmtpReply = { code: 451, enhanced: '4.3.0', showMessage: false };

/** The SMTP reply of every error code; the compiler keeps the table complete. */
export const SMTP_REPLY: Record<ErrorCode, SmtpReply> = {
  CONFIG_INVALID: LOCAL_ERROR,
  MESSAGE_INVALID: LOCAL_ERROR,
  MESSAGE_UNKNOWN_TYPE: LOCAL_ERROR,
  HANDLER_FAILED: LOCAL_ERROR,
  BUS_UNAVAILABLE: LOCAL_ERROR,
  BUS_PUBLISH_FAILED: LOCAL_ERROR,
  BUS_CLOSED: { code: 421, enhanced: '4.3.2', showMessage: false },
  STORE_UNAVAILABLE: LOCAL_ERROR,
  STORE_QUERY_FAILED: LOCAL_ERROR,
  STORE_CONFLICT: LOCAL_ERROR,
  STORE_MIGRATION_FAILED: LOCAL_ERROR,
  NOT_FOUND: { code: 550, enhanced: '5.1.1', showMessage: true },
  VALIDATION_FAILED: { code: 554, enhanced: '5.6.0', showMessage: true },
  UNAUTHORIZED: { code: 535, enhanced: '5.7.8', showMessage: false },
  FORBIDDEN: { code: 550, enhanced: '5.7.1', showMessage: true },
  STATE_CONFLICT: LOCAL_ERROR,
  PAYLOAD_TOO_LARGE: { code: 552, enhanced: '5.3.4', showMessage: true },
  RATE_LIMITED: { code: 451, enhanced: '4.7.0', showMessage: true },
  SHUTTING_DOWN: { code: 421, enhanced: '4.3.2', showMessage: false },
  INTERNAL: LOCAL_ERROR,
};

/** The reply text of a reply: the enhanced code, then the message or a generic one. */
export function smtpReplyText(reply: SmtpReply, message: string): string {
  const text = reply.showMessage
    ? message
    : reply.code === 535
      ? 'authentication failed: the password must be a valid relais API key'
      : 'local error in processing, try again later';
  // One line: a message must not be able to start a second reply line.
  return `${reply.enhanced} ${text.replace(/[\r\n]+/g, ' ')}`;
}
