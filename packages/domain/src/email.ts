import { domainToASCII } from 'node:url';

/**
 * An address as relais stores it, or why it was refused. `email` is the key contacts are
 * upserted and suppressed by: lowercased local part + `@` + ASCII (punycode) domain.
 */
export type NormalizedEmail =
  /** Accepted; `local` keeps the case it was given, `domain` is lowercase ASCII. */
  | { ok: true; email: string; domain: string; local: string }
  /** Refused; `reason` is a short sentence fit for an import report ("missing @"). */
  | { ok: false; reason: string };

// RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain, 254 for the whole path (256
// minus the angle brackets). A domain of 253 characters is the longest one with a final label.
const MAX_EMAIL = 254;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_LABEL = 63;

const DOT = 0x2e;
const HYPHEN = 0x2d;
const QUOTE = 0x22;
const AT = 0x40;

// RFC 5322 §3.2.3 atext, the characters of an unquoted (dot-atom) local part besides the dot.
const ATEXT = new Uint8Array(128);
for (const char of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~") {
  ATEXT[char.charCodeAt(0)] = 1;
}

/**
 * Checks and canonicalizes one address as typed in a form or a CSV cell. Pure and allocation
 * light: it runs on every row of a contact import.
 * - Surrounding whitespace is trimmed; any other whitespace or control character is refused.
 * - Dot-atom local parts only: quoted (`"a b"@x.com`) and non-ASCII (SMTPUTF8) local parts are
 *   refused as unsupported, since most receiving systems do not take them.
 * - The domain is lowercased and IDNA-converted to punycode (UTS #46, as browsers do), one
 *   trailing dot is dropped; it needs a dot, LDH labels of 1–63 characters and a non-numeric
 *   TLD. IP literals are refused: bulk mail to a bare IP cannot pass DMARC alignment.
 * - `email` lowercases the local part too. RFC 5321 lets a server treat `Ana` and `ana` as two
 *   mailboxes, but no mainstream provider does and every ESP dedupes case-insensitively; one
 *   contact per mailbox matters more than the theoretical distinction (a duplicate means two
 *   copies of every campaign and an unsubscribe that misses one of them). Provider-specific
 *   rules (Gmail dots, `+tags`) are not applied: they would merge distinct mailboxes elsewhere.
 */
export function normalizeEmail(input: string): NormalizedEmail {
  const address = input.trim();
  if (address.length === 0) return refuse('empty');
  if (address.length > MAX_EMAIL) return refuse(`longer than ${MAX_EMAIL} characters`);
  if (address.charCodeAt(0) === QUOTE) return refuse('quoted local parts are not supported');

  let at = -1;
  let asciiOnly = true;
  for (let index = 0; index < address.length; index++) {
    const code = address.charCodeAt(index);
    if (code === AT) {
      if (at !== -1) return refuse('more than one @');
      at = index;
    } else if (code > 0x7e) {
      if (isSpaceOrControl(code)) return refuse('contains whitespace or control characters');
      asciiOnly = false;
    } else if (code <= 0x20) {
      return refuse('contains whitespace or control characters');
    }
  }
  if (at === -1) return refuse('missing @');

  const local = address.slice(0, at);
  const localProblem = checkLocal(local);
  if (localProblem !== undefined) return refuse(localProblem);

  const domain = normalizeDomain(address.slice(at + 1), asciiOnly);
  if (!domain.ok) return domain;

  const email = `${local.toLowerCase()}@${domain.ascii}`;
  if (email.length > MAX_EMAIL) return refuse(`longer than ${MAX_EMAIL} characters`);
  return { ok: true, email, domain: domain.ascii, local };
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

// Unicode spaces, DEL, C1 controls, line/paragraph separators and the BOM: invisible in a
// spreadsheet, yet they make an address that no server will accept.
function isSpaceOrControl(code: number): boolean {
  return (
    code <= 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200b) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function checkLocal(local: string): string | undefined {
  if (local.length === 0) return 'missing local part before @';
  if (local.length > MAX_LOCAL) return `local part longer than ${MAX_LOCAL} characters`;
  if (local.charCodeAt(0) === DOT) return 'local part starts with a dot';
  if (local.charCodeAt(local.length - 1) === DOT) return 'local part ends with a dot';
  let previous = 0;
  for (let index = 0; index < local.length; index++) {
    const code = local.charCodeAt(index);
    if (code === DOT) {
      if (previous === DOT) return 'local part has consecutive dots';
    } else if (code > 0x7f) {
      return 'non-ASCII local parts are not supported';
    } else if (ATEXT[code] !== 1) {
      return code === QUOTE
        ? 'quoted local parts are not supported'
        : `local part contains '${local[index]}'`;
    }
    previous = code;
  }
  return undefined;
}

type DomainResult = { ok: true; ascii: string } | { ok: false; reason: string };

function normalizeDomain(raw: string, asciiOnly: boolean): DomainResult {
  if (raw.length === 0) return refuse('missing domain after @');
  if (raw.charCodeAt(0) === 0x5b) return refuse('IP address literals are not accepted');

  let domain = raw.toLowerCase();
  if (!asciiOnly || domain.includes('xn--')) {
    // ASCII other than letters, digits, hyphens and dots is refused before conversion: the
    // WHATWG host parser would otherwise percent-decode or map it into something valid. It
    // also skips the hyphen rule (UTS #46 CheckHyphens), so it is applied to the labels here.
    for (let index = 0; index < domain.length; index++) {
      const code = domain.charCodeAt(index);
      if (code === HYPHEN) {
        if (isLabelEdge(domain, index)) return refuse('domain label starts or ends with a hyphen');
      } else if (code < 0x80 && code !== DOT && !isLdh(code)) {
        return refuse(`domain contains '${domain[index]}'`);
      }
    }
    // UTS #46 mapping and punycode; also refuses malformed `xn--` labels.
    domain = domainToASCII(domain);
    if (domain === '') return refuse('invalid international domain name');
  }

  if (domain.charCodeAt(domain.length - 1) === DOT) domain = domain.slice(0, -1);
  if (domain.length > MAX_DOMAIN) return refuse(`domain longer than ${MAX_DOMAIN} characters`);

  let labelStart = 0;
  let dots = 0;
  let numericLabel = true;
  for (let index = 0; index <= domain.length; index++) {
    const code = index === domain.length ? DOT : domain.charCodeAt(index);
    if (code === DOT) {
      const length = index - labelStart;
      if (length === 0) return refuse('domain has an empty label');
      if (length > MAX_LABEL) return refuse(`domain label longer than ${MAX_LABEL} characters`);
      if (domain.charCodeAt(labelStart) === HYPHEN || domain.charCodeAt(index - 1) === HYPHEN) {
        return refuse('domain label starts or ends with a hyphen');
      }
      if (index < domain.length) {
        dots++;
        numericLabel = true;
      }
      labelStart = index + 1;
    } else if (isLdh(code)) {
      if (code < 0x30 || code > 0x39) numericLabel = false;
    } else {
      return refuse(`domain contains '${domain[index]}'`);
    }
  }
  if (dots === 0) return refuse('domain has no dot');
  // The last label is the TLD here: an all-numeric one means an IP address or a typo.
  if (numericLabel) return refuse('top-level domain is numeric');
  return { ok: true, ascii: domain };
}

function isLabelEdge(domain: string, index: number): boolean {
  return (
    index === 0 ||
    index === domain.length - 1 ||
    domain.charCodeAt(index - 1) === DOT ||
    domain.charCodeAt(index + 1) === DOT
  );
}

// Letters (already lowercase), digits and hyphen: RFC 1035 §2.3.1 LDH.
function isLdh(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === HYPHEN;
}
