import { describe, expect, it } from 'vitest';
import { bareLineEnding, countReceived } from './strict-crlf';

describe('bareLineEnding', () => {
  it('accepts a message whose every line ends with CRLF', () => {
    expect(bareLineEnding(Buffer.from('Subject: a\r\n\r\nbody\r\n.\r\n'))).toBe(-1);
  });

  it.each([
    ['<LF>.<LF>', 'a\r\n\n.\nMAIL FROM:<x@y>\r\n', 3],
    ['<CR>.<CR>', 'a\r\n\r.\rMAIL FROM:<x@y>\r\n', 3],
    ['<LF>.<CR><LF>', 'a\r\n\n.\r\nRCPT TO:<x@y>\r\n', 3],
    ['<CR><LF>.<LF>', 'a\r\n.\nRCPT TO:<x@y>\r\n', 4],
    ['a leading LF', '\nSubject: a\r\n', 0],
  ])('finds the bare line ending of %s', (_name, text, offset) => {
    expect(bareLineEnding(Buffer.from(text, 'latin1'))).toBe(offset);
  });
});

describe('countReceived', () => {
  it('counts Received fields of the header section only', () => {
    const raw = Buffer.from(
      'Received: from a\r\nreceived : from b\r\nSubject: x\r\n\r\nReceived: in the body\r\n',
    );
    expect(countReceived(raw)).toBe(2);
  });
});
