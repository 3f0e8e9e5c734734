import { createServer } from 'node:net';
import { createTenant } from '@relais/campaign';
import type { Platform } from '@relais/platform';

// The campaign set up as a customer would, through the HTTP API of a running platform, for
// the end-to-end tests: a tenant and its key, contacts with a consent, the segment of all of
// them, a template, a marketing campaign launched to that segment.

/** One request to the tenant's /v1 API, JSON unless `type` says otherwise; a non-2xx throws. */
export type ApiCall<Body> = (
  method: string,
  path: string,
  body?: unknown,
  type?: string,
) => Promise<Body>;

export interface TestTenant<Body> {
  call: ApiCall<Body>;
  key: string;
  tenantId: string;
}

/**
 * A new tenant on `platform` and a `call` with its API key to the HTTP server at `base`.
 * `Body` is how loosely a test reads the JSON answers.
 */
export async function createTestTenant<Body = Record<string, unknown>>(
  platform: Platform,
  base: string,
  name: string,
): Promise<TestTenant<Body>> {
  const created = await createTenant(platform.store, name);
  const key = created.apiKey.key;
  const call: ApiCall<Body> = async (method, path, body, type = 'application/json') => {
    const response = await fetch(`${base}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const payload = (await response.json()) as Body;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
    return payload;
  };
  return { call, key, tenantId: created.tenant.id };
}

/** The consent the imported contacts gave: its purpose and where it was collected. */
export interface Consent {
  purpose: 'marketing' | 'tracking';
  source: string;
}

/** Imports `emails` as a one-column CSV, each with `consent`. */
export async function importContacts(
  call: ApiCall<unknown>,
  emails: readonly string[],
  consent: Consent,
): Promise<void> {
  await call(
    'POST',
    `/contacts/imports?consentPurpose=${consent.purpose}&consentSource=${consent.source}`,
    ['email', ...emails].join('\n'),
    'text/csv',
  );
}

/** The segment of every contact; its id. */
export async function createSegmentOfAll(call: ApiCall<Record<string, unknown>>): Promise<string> {
  const segment = await call('POST', '/segments', { name: 'all', rules: { all: true } });
  return String(segment['id']);
}

export interface TemplateContent {
  name: string;
  subject: string;
  html?: string;
  text?: string;
}

/** A template; its id. */
export async function createTemplate(
  call: ApiCall<Record<string, unknown>>,
  content: TemplateContent,
): Promise<string> {
  const template = await call('POST', '/templates', content);
  return String(template['id']);
}

/** Creates a marketing campaign from news@mail.relais.test and launches it; its id. */
export async function launchCampaign(
  call: ApiCall<Record<string, unknown>>,
  campaign: { name: string; segmentId: string; templateId: string },
): Promise<string> {
  const created = await call('POST', '/campaigns', {
    name: campaign.name,
    messageClass: 'marketing',
    from: { email: 'news@mail.relais.test', name: 'relais' },
    segmentId: campaign.segmentId,
    templateId: campaign.templateId,
  });
  const id = String(created['id']);
  await call('POST', `/campaigns/${id}/launch`, {});
  return id;
}

/** The segment of all contacts, `template`, and a campaign `name` launched with them; its id. */
export async function launchCampaignToAll(
  call: ApiCall<Record<string, unknown>>,
  name: string,
  template: TemplateContent,
): Promise<string> {
  const segmentId = await createSegmentOfAll(call);
  const templateId = await createTemplate(call, template);
  return launchCampaign(call, { name, segmentId, templateId });
}

/** Reads until `done` holds (every `everyMs`) and returns that value; throws after the timeout. */
export type WaitFor = <T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs?: number,
) => Promise<T>;

/** A `waitFor` reading every `everyMs`, with a 30 s timeout unless a call gives another. */
export function poller(everyMs: number): WaitFor {
  return async (read, done, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
}

/** A port free on loopback now, for a server that must know its address before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
