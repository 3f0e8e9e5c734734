/** An error smtp-server sends as the reply: `responseCode` and the message as its text. */
export type SmtpRefusal = Error & { responseCode: number };

/**
 * A refusal with its reply code; the text starts with the RFC 3463 enhanced status code
 * (`5.6.0 bare CR or LF…`), since listeners hide smtp-server's own to write their own.
 */
export function smtpRefusal(code: number, text: string): SmtpRefusal {
  return Object.assign(new Error(text), { responseCode: code });
}

/** True for an error built by smtpRefusal (or anything else carrying a reply code). */
export function isSmtpRefusal(error: unknown): error is SmtpRefusal {
  return (
    error instanceof Error && typeof (error as { responseCode?: unknown }).responseCode === 'number'
  );
}
