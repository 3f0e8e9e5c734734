import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { RelaisError } from '@relais/domain';
import { importContacts } from '../import';
import { defineRoute, type Route } from '@relais/http-api';
import { isoDate, purpose, tagName } from '../http/schemas';
import type { RouteDeps } from './context';

const MEDIA_FORMATS: Record<string, 'csv' | 'ndjson'> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};

const csvList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean),
  )
  .pipe(z.array(tagName).max(50));

const reportSchema = z.object({
  rows: z.number(),
  imported: z.number(),
  created: z.number(),
  updated: z.number(),
  skipped: z.number(),
  rejected: z.number(),
  errors: z.array(z.object({ line: z.number(), reason: z.string(), field: z.string().optional() })),
  errorsTruncated: z.boolean(),
  durationMs: z.number(),
});

export function importRoutes({ store }: RouteDeps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/contacts/imports',
      operationId: 'importContacts',
      summary: 'Bulk import contacts from CSV or NDJSON (streamed, millions of rows)',
      description:
        'The body is read as a stream in constant memory and upserted by normalized email. Every bad row is reported with its line number and reason while the good rows are imported. Send `Content-Encoding: gzip` to upload compressed.',
      tag: 'Contacts',
      rawBody: {
        mediaTypes: ['text/csv', 'application/x-ndjson'],
        description:
          'CSV with a header row (an `email` column, an optional `tags` column separated by `;`, every other column an attribute; `age:number`, `vip:boolean`, `signup_at:date` type a column), or one JSON object per line: `{"email", "attributes", "tags"}`.',
      },
      query: z.object({
        format: z.enum(['csv', 'ndjson']).optional().describe('Overrides the Content-Type.'),
        mode: z.enum(['upsert', 'insert-only']).default('upsert'),
        tags: csvList.optional().describe('Comma-separated tags added to every imported contact.'),
        consentPurpose: purpose
          .optional()
          .describe('Record this consent for every imported contact.'),
        consentSource: z.string().min(1).max(200).optional(),
        consentTextVersion: z.string().max(100).optional(),
        consentRecordedAt: isoDate.optional(),
        maxErrors: z.coerce.number().int().min(0).max(100_000).default(1000),
      }),
      response: reportSchema,
      handler: async ({ scope, query, req }) => {
        const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        const format = query.format ?? MEDIA_FORMATS[mediaType];
        if (!format) {
          throw new RelaisError(
            'VALIDATION_FAILED',
            'Send the file as text/csv or application/x-ndjson, or say which with ?format=csv|ndjson.',
            { details: { parameter: 'format' } },
          );
        }
        if (query.consentPurpose && !query.consentSource) {
          throw new RelaisError(
            'VALIDATION_FAILED',
            'consentSource is required with consentPurpose.',
            {
              details: { parameter: 'consentSource' },
            },
          );
        }
        const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
        if (encoding !== 'identity' && encoding !== 'gzip') {
          throw new RelaisError(
            'VALIDATION_FAILED',
            `Content-Encoding ${encoding} is not supported; use gzip.`,
          );
        }
        const input: Readable = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
        // A client that goes away stops the import between chunks instead of reading on.
        const aborted = new AbortController();
        req.on('close', () => {
          if (!req.complete) aborted.abort();
        });
        return importContacts(store, scope.tenantId, input, {
          format,
          mode: query.mode,
          tags: query.tags,
          maxErrors: query.maxErrors,
          signal: aborted.signal,
          consent: query.consentPurpose
            ? {
                purpose: query.consentPurpose,
                source: query.consentSource ?? 'import',
                textVersion: query.consentTextVersion,
                recordedAt: query.consentRecordedAt ? new Date(query.consentRecordedAt) : undefined,
              }
            : undefined,
        });
      },
    }),
  ];
}
