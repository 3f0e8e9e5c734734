import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { campaignApi, createTenant } from '@relais/campaign';
import type { TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';

/** The import report the API answers with (the fields the bench reads). */
export interface ImportReport {
  rows: number;
  created: number;
  updated: number;
  rejected: number;
  errors: { line: number; reason: string }[];
}

/** The campaign API on an ephemeral port, and one tenant's client for it. */
export interface BenchApi {
  tenantId: TenantId;
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Streams CSV pieces as the request body: the file is never whole in memory. */
  importCsv(csv: AsyncIterable<string>, query: string): Promise<ImportReport>;
  close(): Promise<void>;
}

export async function startApi(store: Store, logger: Logger): Promise<BenchApi> {
  const app = express();
  app.use('/v1', campaignApi({ store, logger }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}/v1`;
  const { tenant, apiKey } = await createTenant(store, 'bench');
  const authorization = `Bearer ${apiKey.key}`;

  return {
    tenantId: tenant.id,
    async call(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    importCsv(csv, query) {
      return new Promise((resolve, reject) => {
        const req = request(
          `${base}/contacts/imports?${query}`,
          { method: 'POST', headers: { authorization, 'content-type': 'text/csv' } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (piece: string) => (text += piece));
            res.on('error', reject);
            res.on('end', () => {
              if ((res.statusCode ?? 0) >= 300) {
                reject(new Error(`import: ${res.statusCode} ${text}`));
              } else {
                resolve(JSON.parse(text) as ImportReport);
              }
            });
          },
        );
        req.on('error', reject);
        pipeline(Readable.from(csv), req).catch(reject);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
