import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { RelaisError } from '@relais/domain';
import type { Store } from '@relais/store';
import { createCsvParser } from './csv';
import { addTags, mergeRow } from './limits';
import { createNdjsonParser } from './ndjson';
import type { ContactRow, FormatParser, ImportOptions, ImportReport, RowSink } from './types';
import { uuid7Generator } from './uuid7';
import {
  chunkParams,
  chunkStatements,
  writeChunk,
  type ChunkWriter,
  type ChunkWritten,
  type ResolvedConsent,
  type WritePlan,
} from './write-chunk';

/**
 * Rows per transaction. Measured on 1M rows: per-chunk overhead (transaction, staging table,
 * statement) is amortized from ~10k on; larger chunks only add memory and make a failure
 * lose more work.
 */
export const IMPORT_CHUNK_ROWS = 20_000;
/**
 * Chunks written at once, each on its own connection. The database side of a chunk is
 * single-threaded; with two in flight the server uses both cores of a small machine while
 * this process parses (1M rows: measured in bench/segment). A chunk that shares an address
 * with one still in flight waits for it, so rows still apply in file order and two writers
 * never contend for the same key. PGlite has one connection: its chunks simply queue.
 */
const WRITES_IN_FLIGHT = 2;
/** Input is fed to the parser in slices of this size, so a huge single chunk still yields. */
const SLICE_BYTES = 64 * 1024;
const DEFAULT_MAX_ERRORS = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PURPOSE = /^[a-z][a-z0-9_-]{0,63}$/;

/** Rows of one transaction, merged by email so the upsert sees each contact once. */
class Chunk {
  readonly contacts = new Map<string, ContactRow>();
  rows = 0;
  /** Rows folded into an earlier row of the same email. */
  repeats = 0;
}

/**
 * Imports contacts from CSV or NDJSON into one tenant, upserting by normalized email.
 *
 * Streaming and constant memory: rows are parsed as the input arrives and written in chunks
 * of IMPORT_CHUNK_ROWS, each in its own transaction (COPY into a staging table, then one
 * set-based upsert). While chunks are written the next is parsed; at most
 * WRITES_IN_FLIGHT chunks are in flight, and input is not read meanwhile, which is the
 * backpressure on the source.
 *
 * Rows are applied as if imported one after the other: a repeated email merges into the
 * contact its earlier row wrote (later values win, tags add up); in `insert-only` mode the
 * first row wins. Bad rows are reported with their line and never stop the import.
 *
 * Not atomic as a whole: chunks already committed stay when a later one fails, the input
 * breaks, or `signal` aborts. Then it throws a RelaisError (the store's code for a database
 * failure, VALIDATION_FAILED for unreadable input, SHUTTING_DOWN for an abort) whose details
 * say how many rows were committed; re-running the same file converges, since it is an
 * upsert. Problems that make the whole input unusable (no header, no `email` column, an
 * unknown tenant) throw before anything is written.
 */
export async function importContacts(
  store: Store,
  tenantId: string,
  input: Readable | AsyncIterable<Buffer | string>,
  options: ImportOptions,
): Promise<ImportReport> {
  const startedAt = performance.now();
  const plan = await preparePlan(store, tenantId, options);
  const writer: ChunkWriter = {
    mode: plan.mode,
    statements: chunkStatements(plan),
    params: chunkParams(tenantId, plan),
    extraTags: plan.extraTags,
    nextId: uuid7Generator(),
  };
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const insertOnly = plan.mode === 'insert-only';

  const report: ImportReport = {
    rows: 0,
    imported: 0,
    created: 0,
    updated: 0,
    skipped: 0,
    rejected: 0,
    errors: [],
    errorsTruncated: false,
    durationMs: 0,
  };
  let committedRows = 0;
  let chunk = new Chunk();

  const sink: RowSink = {
    accept(row, line) {
      const earlier = chunk.contacts.get(row.email);
      if (earlier !== undefined && !insertOnly) {
        const problem = mergeRow(earlier, row);
        if (problem) {
          sink.reject({ line, ...problem });
          return;
        }
      }
      report.rows++;
      chunk.rows++;
      if (earlier === undefined) chunk.contacts.set(row.email, row);
      else chunk.repeats++;
    },
    reject(error) {
      report.rows++;
      report.rejected++;
      if (report.errors.length < maxErrors) report.errors.push(error);
      else report.errorsTruncated = true;
    },
  };
  const parser = createParser(options.format, sink);

  const inFlight = new Set<{ done: Promise<void>; emails: Map<string, ContactRow> }>();
  let writeFailure: Error | undefined;
  const settled = () => Promise.all([...inFlight].map((write) => write.done));

  function account(written: ChunkWritten, flushed: Chunk): void {
    // Every contact of the chunk was written or, in insert-only mode, already existed.
    report.created += written.created;
    if (insertOnly) {
      report.skipped += flushed.contacts.size - written.created + flushed.repeats;
    } else {
      report.updated += written.contacts - written.created + flushed.repeats;
    }
    committedRows += flushed.rows;
  }

  async function flush(): Promise<void> {
    const full = chunk;
    chunk = new Chunk();
    for (const write of inFlight) {
      if (overlaps(full.contacts, write.emails)) await write.done;
    }
    while (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race([...inFlight].map((w) => w.done));
    if (writeFailure !== undefined) return;
    if (full.contacts.size === 0) return;
    const write = {
      emails: full.contacts,
      done: writeChunk(store, full.contacts, writer).then(
        (written) => account(written, full),
        (error: unknown) => {
          writeFailure ??= error instanceof Error ? error : new Error(String(error));
        },
      ),
    };
    inFlight.add(write);
    void write.done.finally(() => inFlight.delete(write));
  }

  try {
    for await (const piece of input as AsyncIterable<Buffer | Uint8Array | string>) {
      const bytes =
        typeof piece === 'string'
          ? Buffer.from(piece)
          : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      for (let offset = 0; offset < bytes.length; offset += SLICE_BYTES) {
        parser.write(bytes.subarray(offset, offset + SLICE_BYTES));
        if (chunk.rows >= IMPORT_CHUNK_ROWS) await flush();
        if (writeFailure !== undefined) throw writeFailure;
        throwIfAborted(options.signal);
      }
    }
    await parser.end();
    throwIfAborted(options.signal);
    await flush();
    await settled();
    if (writeFailure !== undefined) throw writeFailure;
  } catch (error) {
    // Never leave a transaction running behind the caller's back.
    await settled();
    throw withProgress(error, committedRows);
  }
  report.imported = report.created + report.updated;
  report.durationMs = Math.round(performance.now() - startedAt);
  return report;
}

function overlaps(a: Map<string, ContactRow>, b: Map<string, ContactRow>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const email of small.keys()) if (large.has(email)) return true;
  return false;
}

function createParser(format: ImportOptions['format'], sink: RowSink): FormatParser {
  switch (format) {
    case 'csv':
      return createCsvParser(sink);
    case 'ndjson':
      return createNdjsonParser(sink);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof RelaisError) throw reason;
  throw new RelaisError('SHUTTING_DOWN', 'the import was aborted', { cause: reason });
}

/** The same error, with how far the import got; a foreign error becomes INTERNAL. */
function withProgress(error: unknown, committedRows: number): RelaisError {
  if (!(error instanceof RelaisError)) {
    return new RelaisError('INTERNAL', 'the import failed unexpectedly', {
      cause: error,
      details: { committedRows },
    });
  }
  return new RelaisError(
    error.code,
    `${error.message} (the import stopped after committing ${committedRows} rows)`,
    { cause: error, details: { ...error.details, committedRows }, retryable: error.retryable },
  );
}

async function preparePlan(
  store: Store,
  tenantId: string,
  options: ImportOptions,
): Promise<WritePlan> {
  if (!UUID.test(tenantId)) {
    throw new RelaisError('VALIDATION_FAILED', 'tenant id must be a UUID');
  }
  const extraTags: string[] = [];
  const tagProblem = addTags(extraTags, options.tags ?? []);
  if (tagProblem) throw new RelaisError('VALIDATION_FAILED', `import tags: ${tagProblem.reason}`);
  extraTags.sort();
  const consent = options.consent ? resolveConsent(options.consent) : undefined;
  const { rows } = await store.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
  if (rows.length === 0) {
    throw new RelaisError('NOT_FOUND', 'tenant not found', { details: { tenantId } });
  }
  return { mode: options.mode ?? 'upsert', extraTags, consent };
}

function resolveConsent(consent: NonNullable<ImportOptions['consent']>): ResolvedConsent {
  const problems: string[] = [];
  if (!PURPOSE.test(consent.purpose)) {
    problems.push('purpose must be lowercase letters, digits, "_" or "-" (at most 64)');
  }
  if (consent.source.trim() === '') problems.push('source is required');
  if (consent.ip !== undefined && isIP(consent.ip) === 0) problems.push('ip is not an IP address');
  if (consent.recordedAt !== undefined && Number.isNaN(consent.recordedAt.getTime())) {
    problems.push('recordedAt is not a valid date');
  }
  if (problems.length > 0) {
    throw new RelaisError('VALIDATION_FAILED', `invalid consent: ${problems.join('; ')}`);
  }
  return {
    purpose: consent.purpose,
    granted: consent.granted ?? true,
    recordedAt: consent.recordedAt ?? new Date(),
    source: consent.source,
    ip: consent.ip ?? null,
    textVersion: consent.textVersion ?? null,
  };
}
