/**
 * Which SMTP command the remote server refused. The same words mean different things at
 * different steps (a "user unknown" after DATA is a content filter's verdict, an error after
 * MAIL FROM is about our sender), so the classifier needs the step as much as the text.
 */

/** The step of the SMTP dialogue a failure happened at; `CONN` is the greeting or connect. */
export type SmtpCommand = 'CONN' | 'HELO' | 'STARTTLS' | 'MAIL' | 'RCPT' | 'DATA';

/** How notices name the step, as data: first pattern that matches in a text window wins. */
export const COMMAND_PATTERNS: readonly { pattern: RegExp; command: SmtpCommand }[] = [
  // Postfix: `(in reply to RCPT TO command)`, `(in reply to end of DATA command)`.
  { pattern: /in reply to (?:the )?rcpt to\b/i, command: 'RCPT' },
  { pattern: /in reply to (?:the )?mail from\b/i, command: 'MAIL' },
  { pattern: /in reply to (?:the )?(?:end of )?data\b/i, command: 'DATA' },
  { pattern: /in reply to (?:the )?(?:helo|ehlo|lhlo)\b/i, command: 'HELO' },
  { pattern: /in reply to (?:the )?starttls\b/i, command: 'STARTTLS' },
  { pattern: /in reply to (?:the )?(?:initial|server) greeting/i, command: 'CONN' },
  // Exim: `SMTP error from remote mail server after RCPT TO:<…>`.
  { pattern: /\bafter (?:the )?rcpt to\b/i, command: 'RCPT' },
  { pattern: /\bafter (?:the )?mail from\b/i, command: 'MAIL' },
  {
    pattern: /\bafter (?:the )?(?:end of data|data\b|sending data|pipelined data)/i,
    command: 'DATA',
  },
  { pattern: /\bafter (?:the )?(?:initial connection|connect|greeting|banner)/i, command: 'CONN' },
  { pattern: /\bafter (?:the )?(?:helo|ehlo)\b/i, command: 'HELO' },
  { pattern: /\bafter (?:the )?starttls\b/i, command: 'STARTTLS' },
  // Sendmail and appliance transcripts: `>>> RCPT To:<…>` followed by the `<<< 550` reply.
  { pattern: />>>\s*rcpt to\b/i, command: 'RCPT' },
  { pattern: />>>\s*mail from\b/i, command: 'MAIL' },
  { pattern: />>>\s*(?:data|\.)\s*(?:$|<<<)/im, command: 'DATA' },
  { pattern: />>>\s*(?:helo|ehlo)\b/i, command: 'HELO' },
  // Yahoo: `[RCPT_TO]`; Orange: `for TEXT command`; Exchange: `… (RCPT TO)`.
  { pattern: /\[rcpt_to\]|\(rcpt to\)/i, command: 'RCPT' },
  { pattern: /\[mail_from\]|\(mail from\)/i, command: 'MAIL' },
  { pattern: /\[data\]|for text command|after end of data/i, command: 'DATA' },
  // qmail: `does not like recipient`, `does not like sender`, `failed after I sent the message`.
  { pattern: /does not like recipient/i, command: 'RCPT' },
  { pattern: /does not like sender/i, command: 'MAIL' },
  { pattern: /failed after i sent the message/i, command: 'DATA' },
  // Connection-level failures before any command was answered.
  {
    pattern:
      /refused to talk to me|connect(?:ion)? to \S+ (?:failed|refused)|connection refused|unable to connect|did not accept our requests to connect|wasn'?t able to establish an smtp connection/i,
    command: 'CONN',
  },
];

/** The step named in one text, if any. */
export function commandIn(text: string): SmtpCommand | undefined {
  for (const { pattern, command } of COMMAND_PATTERNS) if (pattern.test(text)) return command;
  return undefined;
}

/**
 * The step each recipient failed at: its own diagnostic first, then the notice's lines about
 * that address, then the notice as a whole when it names one step only.
 */
export function assignCommands(
  recipients: { address: string; diagnostic?: string; command?: SmtpCommand }[],
  notice: string,
): void {
  const text = notice.slice(0, 64 * 1024);
  const lower = text.toLowerCase();
  let whole: SmtpCommand | null | undefined;
  for (const recipient of recipients) {
    const own = recipient.diagnostic === undefined ? undefined : commandIn(recipient.diagnostic);
    const at = own === undefined ? lower.indexOf(recipient.address.toLowerCase()) : -1;
    const near = at === -1 ? undefined : commandIn(text.slice(Math.max(0, at - 200), at + 600));
    if (own === undefined && near === undefined && whole === undefined) {
      const found = new Set<SmtpCommand>();
      for (const { pattern, command } of COMMAND_PATTERNS)
        if (pattern.test(text)) found.add(command);
      whole = found.size === 1 ? [...found][0]! : null;
    }
    const command = own ?? near ?? whole ?? undefined;
    if (command !== undefined) recipient.command = command;
  }
}
