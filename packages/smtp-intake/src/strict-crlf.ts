/**
 * The offset of the first line ending that is not CRLF (a bare LF or a bare CR), or -1.
 * smtp-server ends DATA only on CRLF.CRLF, so `<LF>.<LF>` or `<CR>.<CR>` stays inside the
 * message; refusing any bare line ending refuses the whole message those sequences try to
 * split, and keeps the stored bytes in the one form the parser and DKIM expect.
 */
export function bareLineEnding(raw: Buffer): number {
  for (let at = raw.indexOf(0x0a); at !== -1; at = raw.indexOf(0x0a, at + 1)) {
    if (at === 0 || raw[at - 1] !== 0x0d) return at;
  }
  for (let at = raw.indexOf(0x0d); at !== -1; at = raw.indexOf(0x0d, at + 1)) {
    if (raw[at + 1] !== 0x0a) return at;
  }
  return -1;
}

/** Received header fields in the header section (up to the first empty line). */
export function countReceived(raw: Buffer): number {
  const end = raw.indexOf('\r\n\r\n');
  const header = raw.subarray(0, end === -1 ? raw.length : end + 2).toString('latin1');
  return (header.match(/(?:^|\r\n)received[ \t]*:/gi) ?? []).length;
}
