/**
 * A small, total MIME reader for bounce intake. Hand-written rather than mailparser because
 * reports need the raw text of `message/delivery-status`, `message/feedback-report` and
 * `text/rfc822-headers` parts with folding kept (ARF fields are themselves header blocks), the
 * nested `message/rfc822` headers of the returned message, and a synchronous call with bounded
 * work on hostile input: every loop here is capped, nothing throws.
 */

/** Only this much of a message is read: bounce diagnostics sit in the first kilobytes. */
export const MAX_INPUT_CHARS = 256 * 1024;
const MAX_DEPTH = 6;
const MAX_PARTS = 64;
const MAX_HEADER_LINES = 500;

export interface Header {
  /** Lower-cased field name. */
  name: string;
  /** The value with folding kept (LF line ends), leading whitespace trimmed. */
  raw: string;
  /** The value unfolded onto one line. */
  value: string;
}

export interface MimePart {
  headers: Header[];
  /** Lower-cased `type/subtype`; `text/plain` when absent or unparsable. */
  contentType: string;
  params: Record<string, string>;
  /** Decoded body text (transfer encoding undone), LF line ends. */
  body: string;
  /** Children of a multipart, or the single child of a message/rfc822. */
  children: MimePart[];
}

/** LF line ends for any input: CRLF, lone CR, or a mix. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

export function toText(raw: Buffer | string): string {
  if (typeof raw === 'string') return raw.slice(0, MAX_INPUT_CHARS);
  return raw.subarray(0, MAX_INPUT_CHARS).toString('utf8');
}

/** Splits a header block and its body at the first empty line. */
export function splitHeaderBody(text: string): { head: string; body: string } {
  const end = text.indexOf('\n\n');
  if (end === -1) {
    // Only headers, or no headers at all: decide on the first line's shape.
    return /^[\x21-\x39\x3b-\x7e]+:/.test(text)
      ? { head: text, body: '' }
      : { head: '', body: text };
  }
  return { head: text.slice(0, end), body: text.slice(end + 2) };
}

export function parseHeaders(head: string): Header[] {
  const headers: Header[] = [];
  const lines = head.split('\n', MAX_HEADER_LINES);
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last.raw += '\n' + line;
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    const raw = line.slice(colon + 1).replace(/^[ \t]+/, '');
    headers.push({ name, raw, value: raw.trim() });
  }
  return headers;
}

export function headerValue(headers: Header[], name: string): string | undefined {
  return headers.find((h) => h.name === name)?.value;
}

export function headerValues(headers: Header[], name: string): string[] {
  return headers.filter((h) => h.name === name).map((h) => h.value);
}

/** `type/subtype; a=b; c="d"` → type and lower-cased parameter names. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  const params: Record<string, string> = {};
  if (value === undefined) return { type: 'text/plain', params };
  const [first = '', ...rest] = splitParams(value);
  const type = first.trim().toLowerCase();
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq <= 0) continue;
    const key = param.slice(0, eq).trim().toLowerCase();
    let val = param.slice(eq + 1).trim();
    if (val.startsWith('"'))
      val = val.slice(1, val.endsWith('"') && val.length > 1 ? -1 : undefined);
    params[key] = val;
  }
  return { type: /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'text/plain', params };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

export function decodeBody(body: string, encoding: string | undefined, charset?: string): string {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') {
    const bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    return bytesToText(bytes, charset);
  }
  if (enc === 'quoted-printable') {
    const bytes = decodeQuotedPrintable(body);
    return normalizeNewlines(bytesToText(bytes, charset));
  }
  return body;
}

function bytesToText(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? '').toLowerCase();
  if (cs === 'iso-8859-1' || cs === 'latin1' || cs === 'windows-1252' || cs === 'us-ascii') {
    return bytes.toString('latin1');
  }
  return bytes.toString('utf8');
}

function decodeQuotedPrintable(body: string): Buffer {
  const text = body.replace(/=[ \t]*\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 61 /* = */ && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch < 128) bytes.push(ch);
    else for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (B and Q) in a header value; unknown charsets are read as UTF-8. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(
      /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g,
      (_m, charset: string, enc: string, data: string) => {
        const bytes =
          enc.toLowerCase() === 'b'
            ? Buffer.from(data, 'base64')
            : decodeQuotedPrintable(data.replace(/_/g, ' '));
        return bytesToText(bytes, charset);
      },
    );
}

/** Parses a whole message (already LF-normalized) into a MIME tree. */
export function parseMime(text: string): MimePart {
  const budget = { parts: 0 };
  return parseEntity(text, 0, budget);
}

function parseEntity(text: string, depth: number, budget: { parts: number }): MimePart {
  budget.parts += 1;
  const { head, body: rawBody } = splitHeaderBody(text);
  const headers = parseHeaders(head);
  const { type, params } = parseContentType(headerValue(headers, 'content-type'));
  const part: MimePart = { headers, contentType: type, params, body: '', children: [] };
  const canRecurse = depth < MAX_DEPTH && budget.parts < MAX_PARTS;
  if (type.startsWith('multipart/') && params.boundary !== undefined && canRecurse) {
    const pieces = splitMultipart(rawBody, params.boundary);
    if (pieces === undefined) {
      // Broken MIME: the boundary never appears. Keep the body as text to mine for diagnostics.
      part.body = rawBody;
      part.contentType = 'text/plain';
      return part;
    }
    part.body = pieces.preamble;
    for (const piece of pieces.parts) {
      if (budget.parts >= MAX_PARTS) break;
      part.children.push(parseEntity(piece, depth + 1, budget));
    }
    return part;
  }
  part.body = decodeBody(
    rawBody,
    headerValue(headers, 'content-transfer-encoding'),
    params.charset,
  );
  if ((type === 'message/rfc822' || type === 'message/global') && canRecurse) {
    part.children.push(parseEntity(part.body, depth + 1, budget));
  }
  return part;
}

function splitMultipart(
  body: string,
  boundary: string,
): { preamble: string; parts: string[] } | undefined {
  const delimiter = '--' + boundary;
  const lines = body.split('\n');
  const parts: string[] = [];
  let preamble: string[] = [];
  let current: string[] | undefined;
  let seen = false;
  for (const line of lines) {
    // Leniency for real-world breakage: some MTAs indent the delimiter line.
    const trimmed = line.trimStart();
    if (trimmed.startsWith(delimiter)) {
      const rest = trimmed.slice(delimiter.length);
      if (rest.startsWith('--')) {
        if (current !== undefined) parts.push(current.join('\n'));
        current = undefined;
        seen = true;
        break;
      }
      if (rest.trim() === '') {
        if (current !== undefined) parts.push(current.join('\n'));
        current = [];
        seen = true;
        continue;
      }
    }
    if (current !== undefined) current.push(line);
    else if (!seen) preamble.push(line);
  }
  // A truncated message has no closing delimiter: keep what arrived.
  if (current !== undefined) parts.push(current.join('\n'));
  if (!seen) return undefined;
  const text = preamble.join('\n');
  preamble = [];
  return { preamble: text, parts };
}

/** Every part of the tree, depth first, the root included. */
export function walk(
  part: MimePart,
  visit: (part: MimePart, depth: number) => void,
  depth = 0,
): void {
  visit(part, depth);
  for (const child of part.children) walk(child, visit, depth + 1);
}
