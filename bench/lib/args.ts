/**
 * A positive integer command-line flag (`--messages 100_000`); underscores and commas are
 * accepted as digit separators. Exits with a usage error on anything else.
 */
export function numberArg(flag: string, fallback: number): number {
  const index = process.argv.indexOf(flag);
  const raw = index >= 0 ? process.argv[index + 1] : undefined;
  if (raw === undefined) return fallback;
  const value = Number(raw.replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${flag} needs a positive integer, got "${raw}"`);
    process.exit(2);
  }
  return value;
}
