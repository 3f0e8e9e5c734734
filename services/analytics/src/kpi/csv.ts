/**
 * RFC 4180 CSV as spreadsheets and Looker Studio read it: a header row, CRLF line breaks,
 * fields quoted when they hold a comma, quote or line break (quotes doubled), numbers
 * written plainly (never `1e-7`), times as ISO 8601 UTC, empty for a missing value.
 */
export type CsvValue = string | number | Date | null | undefined;

/** Text a spreadsheet would run as a formula (OWASP CSV injection). */
const FORMULA = /^[=+\-@\t\r]/;

/** A number without exponent or float noise (at most 10 decimals, trailing zeros cut). */
export function plainNumber(value: number): string {
  if (!Number.isFinite(value)) return '';
  if (Number.isInteger(value)) return BigInt(value).toString();
  return value.toFixed(10).replace(/0+$/, '').replace(/\.$/, '');
}

/** One field of a row. */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return plainNumber(value);
  // Dates and numbers are safe; text a tenant chose (variant names) is defused first.
  const text =
    value instanceof Date ? value.toISOString() : FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The whole document: header, then rows, each line ending in CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}
