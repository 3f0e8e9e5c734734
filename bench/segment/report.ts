import type { DriverResult, Step } from './scenario';

const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
const perSecond = (step: Step): number => Math.round(step.rows / step.seconds);
const share = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(1)} %`;

function row(label: string, step: Step): string {
  return [
    label.padEnd(34),
    step.rows.toLocaleString('en').padStart(10),
    step.seconds.toFixed(2).padStart(8),
    perSecond(step).toLocaleString('en').padStart(10),
    step.cpuSeconds.toFixed(1).padStart(8),
    (step.serverCpuSeconds === undefined ? 'in-proc' : step.serverCpuSeconds.toFixed(1)).padStart(
      10,
    ),
    String(step.peakRssMb).padStart(8),
  ].join('  ');
}

function describeDriver(result: DriverResult, contacts: number): string[] {
  const written = result.resolve.rows;
  const pending = Object.values(result.variants).reduce((a, b) => a + b, 0);
  const split = Object.entries(result.variants)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${n.toLocaleString('en')} (${share(n, pending)})`)
    .join(', ');
  const excluded = Object.entries(result.excluded)
    .map(([reason, n]) => `${reason} ${n.toLocaleString('en')}`)
    .join(', ');
  return [
    `${result.driver}:`,
    row('  import through the API (relais)', result.import),
    row('  raw COPY of the CSV (reference)', result.rawCopy),
    row('  segment → message rows (relais)', result.resolve),
    row('  INSERT … SELECT (reference)', result.insertSelect),
    `  import ${round(result.import.seconds / result.rawCopy.seconds, 1)}× raw COPY; resolution ${round(result.resolve.seconds / result.insertSelect.seconds, 1)}× plain INSERT … SELECT`,
    `  segment matched ${written.toLocaleString('en')} of ${contacts.toLocaleString('en')} contacts (${share(written, contacts)}); to send: ${split}; excluded: ${excluded || 'none'}`,
  ];
}

/**
 * Prints the side-by-side table and the verdict against the targets; returns the summary
 * the caller prints as its last line.
 */
export function printReport(
  results: readonly DriverResult[],
  contacts: number,
): Record<string, number> {
  const postgres = results.find((r) => r.driver === 'postgres')!;
  const pglite = results.find((r) => r.driver === 'pglite')!;
  console.log('');
  console.log(
    [
      ''.padEnd(34),
      'rows'.padStart(10),
      'seconds'.padStart(8),
      'rows/s'.padStart(10),
      'CPU s'.padStart(8),
      'server CPU'.padStart(10),
      'RSS MB'.padStart(8),
    ].join('  '),
  );
  for (const result of [postgres, pglite]) {
    for (const line of describeDriver(result, contacts)) console.log(line);
  }
  console.log(
    'CPU s: this process (reading the file, HTTP client and server, parsing, database client; PGlite itself on PGlite); server CPU: every PostgreSQL process; RSS: peak of this process.',
  );
  const verdict = (seconds: number, limit: number) =>
    seconds <= limit ? `ok, target ≤ ${limit} s` : `OVER the ${limit} s target`;
  console.log(
    `PostgreSQL: import ${postgres.import.seconds.toFixed(1)} s (${verdict(postgres.import.seconds, 60)}), segment → message rows ${postgres.resolve.seconds.toFixed(1)} s (${verdict(postgres.resolve.seconds, 15)})`,
  );
  return {
    importSeconds: round(postgres.import.seconds),
    segmentSeconds: round(postgres.resolve.seconds),
    pgliteImportSeconds: round(pglite.import.seconds),
    pgliteSegmentSeconds: round(pglite.resolve.seconds),
    importRowsPerSecond: perSecond(postgres.import),
    segmentRowsPerSecond: perSecond(postgres.resolve),
    copySeconds: round(postgres.rawCopy.seconds),
    insertSelectSeconds: round(postgres.insertSelect.seconds),
    pgliteCopySeconds: round(pglite.rawCopy.seconds),
    pgliteInsertSelectSeconds: round(pglite.insertSelect.seconds),
    segmentRows: postgres.resolve.rows,
  };
}
