import type { ParsedReport, ReportRecipient } from '../report/index';

/** What the reason model sees of one bounced recipient. */
export interface ModelInput {
  /** The remote server's text or the notice's wording for this recipient. */
  diagnostic: string;
  /** Enhanced status code (RFC 3463), e.g. `5.1.1`. */
  status?: string | undefined;
  /** Basic SMTP reply code, e.g. 550. */
  replyCode?: number | undefined;
  /** The SMTP command the reply answered (`RCPT TO`, `MAIL FROM`, `DATA`, `CONNECT`). */
  command?: string | undefined;
  /** Subject of the bounce notice. */
  subject?: string | undefined;
  /**
   * The rules' reason for the same recipient. The model is stacked on the rules: it learns
   * where they are reliable and which words tell it they are not.
   */
  rule?: string | undefined;
}

// Order matters: URLs and addresses contain hosts, hosts contain numbers. Each value is
// replaced by a placeholder so that the model learns "an address stood here", never which
// one — corpus addresses (kijitora@example.jp) would otherwise be the strongest features.
const NORMALIZATIONS: readonly [RegExp, string][] = [
  // URLs often name the reason (libsisimai.org/en/reason/#filtered): a leak, not a signal.
  [/\b(?:https?|ftp):\/\/\S+/gi, ' xurl '],
  [/\bwww\.\S+/gi, ' xurl '],
  [/<?[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+>?/g, ' xaddr '],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, ' xip '],
  [/\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b/gi, ' xip '],
  [/(?<![\w.])[245]\.\d{1,3}\.\d{1,3}(?![\w.]*\d)/g, ' xstatus '],
  [/\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]\b/gi, ' xhost '],
  // Queue ids, message ids, error references: letters and digits mixed in one word.
  [/\b(?=[a-z_-]*\d)(?=\d*[a-z])[a-z0-9_-]{3,}\b/gi, ' xid '],
  [/\d+/g, ' xnum '],
];

const WORD = /\p{L}+/gu;

/** Lower-cased diagnostic with addresses, hosts, IPs, URLs, ids and numbers as placeholders. */
export function normalizeDiagnostic(text: string): string {
  let out = text.toLowerCase().replace(/['’]/g, '');
  for (const [pattern, placeholder] of NORMALIZATIONS) out = out.replace(pattern, placeholder);
  return out;
}

// Numbers and status codes carry no meaning as words (the reply code and status are features
// of their own); leaving them in made "550 : User unknown" and "550 5.1.1 User unknown" look
// like different replies and cost cross-validated accuracy.
const DROPPED_PLACEHOLDERS = new Set(['xnum', 'xstatus']);

/** Words of a text after normalization: letters only, at least two, number placeholders left out. */
export function diagnosticWords(text: string): string[] {
  return (normalizeDiagnostic(text).match(WORD) ?? []).filter(
    (word) => word.length > 1 && !DROPPED_PLACEHOLDERS.has(word),
  );
}

// The command a reply answered, as notices print it ("after MAIL FROM", ">>> RCPT TO <<<",
// "[RCPT_TO]", "after end of data", "after initial connection").
const COMMAND_IN_TEXT: readonly [RegExp, string][] = [
  [/\bafter (?:initial connection|connect)|\bconnect(?:ion)? (?:to|refused|timed)/i, 'connect'],
  [/\b(?:after|>>>|in reply to) ?(?:rcpt to|rcpt)\b|\[rcpt_to\]|rcpt to\s*<<</i, 'rcpt'],
  [/\b(?:after|>>>|in reply to) ?mail from\b|\[mail_from\]|mail from\s*<<</i, 'mail'],
  [/\bafter (?:end of data|data)\b|\[data\]|>>> data\b|end of data/i, 'data'],
  [/\b(?:after|>>>) ?(?:helo|ehlo)\b/i, 'helo'],
];

function commandOf(input: ModelInput): string | undefined {
  if (input.command !== undefined && input.command.trim() !== '') {
    const given = input.command.trim().toLowerCase();
    if (given.startsWith('rcpt')) return 'rcpt';
    if (given.startsWith('mail')) return 'mail';
    if (given.includes('data')) return 'data';
    if (given.startsWith('helo') || given.startsWith('ehlo')) return 'helo';
    return given.startsWith('conn') ? 'connect' : (diagnosticWords(given)[0] ?? undefined);
  }
  return COMMAND_IN_TEXT.find(([pattern]) => pattern.test(input.diagnostic))?.[1];
}

// Where a status code may stand: not inside an IP address or a version number.
const STATUS_IN_TEXT = /(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]*\d)/;
const REPLY_CODE_IN_TEXT = /(?<![\w.:-])([245]\d\d)(?=[\s-]|$)/;

/**
 * The status given, else the first one in the text — the way the rules read a reply, so that
 * a caller with only the text sees the features the parser's status gave in training. One
 * whose class contradicts the reply code (`450 5.1.1`) is a typo and counts as none.
 */
function statusOf(given: string | undefined, replyCode: number | undefined, text: string) {
  const found =
    /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(given?.trim() ?? '') ?? STATUS_IN_TEXT.exec(text);
  if (found === null) return null;
  if (replyCode !== undefined && found[1] !== String(replyCode)[0]) return null;
  return found;
}

function replyCodeInText(text: string): number | undefined {
  const found = REPLY_CODE_IN_TEXT.exec(text);
  return found === null ? undefined : Number(found[1]);
}

/**
 * The features of one recipient, deduplicated, in a stable order: `w:` words and `b:`
 * bigrams of the normalized diagnostic, `st:` the status class, subject and detail, `code:`
 * the reply code and its class, `cmd:` the command, `s:` words of the notice's subject, and
 * `empty` when the diagnostic has no words at all (the parser found no text to read). A
 * missing status or code adds nothing: "no status" features leaned on how the corpus's
 * systems format notices (a bare "User unknown" is mostly KDDI's filter there) and cost
 * cross-validated accuracy.
 */
export function extractFeatures(input: ModelInput): string[] {
  const features: string[] = [];
  const words = diagnosticWords(input.diagnostic);
  if (words.length === 0) features.push('empty');
  for (const [i, word] of words.entries()) {
    features.push(`w:${word}`);
    const next = words[i + 1];
    if (next !== undefined) features.push(`b:${word} ${next}`);
  }
  const replyCode = input.replyCode ?? replyCodeInText(input.diagnostic);
  const status = statusOf(input.status, replyCode, input.diagnostic);
  if (status !== null) {
    const [, klass, subject, detail] = status;
    features.push(`st:${klass}`, `st:${subject}.${detail}`, `st:${klass}.${subject}.${detail}`);
    features.push(`st:x.${subject}`);
  }
  if (replyCode !== undefined && Number.isInteger(replyCode)) {
    features.push(`code:${replyCode}`, `code:${String(replyCode)[0]}xx`);
  }
  const command = commandOf(input);
  if (command !== undefined) features.push(`cmd:${command}`);
  for (const word of diagnosticWords(input.subject ?? '')) features.push(`s:${word}`);
  if (input.rule !== undefined) features.push(`rule:${input.rule}`);
  return [...new Set(features)];
}

/**
 * What the model reads of a parsed recipient: its own diagnostic, or the notice's text when
 * the parser found none for it (as `classifyReport` falls back to the notice).
 */
export function modelInputOf(
  report: ParsedReport,
  recipient: ReportRecipient,
  rule?: string,
): ModelInput {
  const own = recipient.diagnostic ?? '';
  return {
    rule,
    diagnostic: diagnosticWords(own).length > 0 ? own : (report.notice ?? own),
    status: recipient.status,
    replyCode: recipient.replyCode,
    command: recipient.command,
    subject: report.subject,
  };
}
