/** The line break a CSV file uses between records. */
export type Newline = '\n' | '\r\n' | '\r';

/** A record holding a quote, as RFC 4180 sees it. */
export type RecordCheck =
  | { kind: 'ok' }
  /** The record goes on past the text available so far. */
  | { kind: 'incomplete' }
  /** `field` is 0-based; the bad record ends at `end`, after the line break past the problem. */
  | { kind: 'problem'; reason: string; field: number; end: number };

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const OK: RecordCheck = { kind: 'ok' };
const INCOMPLETE: RecordCheck = { kind: 'incomplete' };

const OPENING_QUOTE =
  'a quote inside an unquoted field (quote the whole field and double inner quotes)';
const CLOSING_QUOTE = 'unexpected character after a closing quote';
const NOT_CLOSED = 'quoted field is not closed before the end of the input';

/**
 * The file's line break, from the first one outside quotes (as csv-parse decided it): a file
 * keeps one style. Undefined while the text seen so far cannot tell.
 */
export function detectNewline(text: string, final: boolean): Newline | undefined {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) quoted = !quoted;
    else if (quoted) continue;
    else if (code === LF) return '\n';
    else if (code === CR) {
      if (i + 1 < text.length) return text.charCodeAt(i + 1) === LF ? '\r\n' : '\r';
      return final ? '\r' : undefined;
    }
  }
  return final ? '\n' : undefined;
}

/**
 * Checks the quoting of the record starting at `start`, strictly: a quoted field ends with a
 * quote followed by a comma or the line break, and an unquoted field holds no quote. papaparse
 * is lenient on both, so records holding a quote go through here. `final` says the text is the
 * whole rest of the input.
 */
export function checkRecord(
  text: string,
  start: number,
  newline: Newline,
  final: boolean,
): RecordCheck {
  const newlineCode = newline.charCodeAt(0);
  let pos = start;
  let field = 0;

  function badUpToLineEnd(reason: string, from: number): RecordCheck {
    const at = text.indexOf(newline, from);
    if (at === -1) return final ? { kind: 'problem', reason, field, end: text.length } : INCOMPLETE;
    return { kind: 'problem', reason, field, end: at + newline.length };
  }

  for (;;) {
    if (text.charCodeAt(pos) === QUOTE) {
      let close = pos + 1;
      for (;;) {
        close = text.indexOf('"', close);
        if (close === -1) {
          return final
            ? { kind: 'problem', reason: NOT_CLOSED, field, end: text.length }
            : INCOMPLETE;
        }
        if (text.charCodeAt(close + 1) !== QUOTE) break;
        close += 2;
      }
      pos = close + 1;
      // A quote at the very end may still be the first of an escaped pair.
      if (pos === text.length) return final ? OK : INCOMPLETE;
      const code = text.charCodeAt(pos);
      if (code === COMMA) {
        pos++;
        field++;
        continue;
      }
      if (text.startsWith(newline, pos)) return OK;
      if (!final && newline === '\r\n' && code === CR && pos + 1 === text.length) return INCOMPLETE;
      return badUpToLineEnd(CLOSING_QUOTE, pos);
    }
    for (;;) {
      if (pos === text.length) return final ? OK : INCOMPLETE;
      const code = text.charCodeAt(pos);
      if (code === COMMA) {
        pos++;
        field++;
        break;
      }
      if (code === QUOTE) return badUpToLineEnd(OPENING_QUOTE, pos);
      if (code === newlineCode && text.startsWith(newline, pos)) return OK;
      pos++;
    }
  }
}
