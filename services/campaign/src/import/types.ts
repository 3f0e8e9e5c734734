/** Input encodings the bulk import reads. */
export type ImportFormat = 'csv' | 'ndjson';

/**
 * How a row meets an existing contact with the same normalized email:
 * `upsert` merges (attributes: new keys added, existing keys overwritten; tags: union);
 * `insert-only` leaves the existing contact untouched and counts the row as skipped.
 */
export type ImportMode = 'upsert' | 'insert-only';

/** A consent recorded for every contact the import writes (grant or withdrawal). */
export interface ImportConsent {
  /** `marketing`, `newsletter`…: lowercase, as the consent ledger requires. */
  purpose: string;
  /** Where the consent was collected (`signup-form`, `crm-export`…). */
  source: string;
  /** Defaults to true: importing a list of grants is the common case. */
  granted?: boolean;
  /** Version of the consent text the contacts agreed to. */
  textVersion?: string;
  ip?: string;
  /** When the consent was given; defaults to the start of the import. */
  recordedAt?: Date;
}

/** What a caller asks of one import. */
export interface ImportOptions {
  format: ImportFormat;
  /** Added to every imported contact, on top of the row's own tags. */
  tags?: string[];
  consent?: ImportConsent;
  /** Defaults to `upsert`. */
  mode?: ImportMode;
  /** How many row errors the report lists (default 1,000); rejected rows are counted past it. */
  maxErrors?: number;
  /** Stops the import between chunks; chunks already written stay. */
  signal?: AbortSignal;
}

/** One rejected row. `line` is the 1-based physical line where the record starts. */
export interface ImportRowError {
  line: number;
  reason: string;
  /** The column or key at fault, when there is one. */
  field?: string;
}

/**
 * The outcome of an import. Every data row is counted once:
 * `rows = rejected + created + updated + skipped`, and `imported = created + updated`.
 * A row repeating an email counts as an update of the contact its earlier row wrote (or, in
 * `insert-only` mode, as skipped), exactly as if the rows had been imported one by one.
 */
export interface ImportReport {
  /** Data rows read (the CSV header and blank lines are not rows). */
  rows: number;
  /** Rows written: `created + updated`. */
  imported: number;
  /** Rows that created a contact. */
  created: number;
  /** Rows merged into an existing contact. */
  updated: number;
  /** Rows left out in `insert-only` mode because the contact exists. */
  skipped: number;
  /** Rows refused; the first `maxErrors` are listed in `errors`. */
  rejected: number;
  errors: ImportRowError[];
  /** True when more rows were rejected than `errors` lists. */
  errorsTruncated: boolean;
  durationMs: number;
}

/** A JSON value as an attribute may hold it. */
export type AttributeValue =
  string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue };

/** A row that passed validation: the normalized email, its attributes and tags. */
export interface ContactRow {
  email: string;
  domain: string;
  attributes: Record<string, AttributeValue>;
  tags: string[];
}

/** Where a format parser hands its rows: each data row is either accepted or rejected. */
export interface RowSink {
  /** `line` is where the row starts, for a rejection the merge with an earlier row causes. */
  accept(row: ContactRow, line: number): void;
  reject(error: ImportRowError): void;
}

/** A streaming parser for one format: fed input bytes, it reports rows to its sink as it goes. */
export interface FormatParser {
  /**
   * Parses the complete rows in `chunk` before returning; a partial row waits for more (the
   * CSV parser may also hold a long incomplete record back until enough input has arrived).
   */
  write(chunk: Buffer): void;
  /** Parses what is left; throws when a problem stops the whole import. */
  end(): Promise<void>;
}
