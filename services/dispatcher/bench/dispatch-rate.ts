// Messages per second through the dispatcher on one core: the whole batch handler (render,
// build, both DKIM signatures, envelope validation, base64) over an in-memory store and a
// publisher that drops what it gets, and composeMessage alone. Same ~5 KB newsletter as
// packages/templates/bench. Run: pnpm --filter @relais/dispatcher bench
import { randomUUID } from 'node:crypto';
import { createEnvelope, type TenantId } from '@relais/domain';
import { createLogger } from '@relais/telemetry';
import {
  composeMessage,
  createCompiledTemplates,
  createPoolRouter,
  generateDkimKeys,
  onDispatchBatch,
  type CampaignInfo,
  type DispatchStore,
  type MailIdentity,
  type StoredTemplate,
} from '../src/index';

const paragraph =
  '<tr><td style="padding:12px 24px;font-family:Arial,sans-serif;font-size:15px;line-height:22px;color:#333333">' +
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.' +
  '</td></tr>\n';
const html = [
  '<!doctype html><html><body><table width="600" cellpadding="0" cellspacing="0">',
  '<tr><td><h1>Hello {{ contact.first_name | default: "there" }} {{ contact.last_name }}</h1></td></tr>',
  paragraph.repeat(6),
  '<tr><td>Your plan: {{ contact.plan }} — renews {{ contact.renewal_date }} in {{ contact.city }}</td></tr>',
  paragraph.repeat(6),
  '<tr><td>{% if contact.vip %}Thanks for being a VIP, {{ contact.first_name }}!{% endif %}</td></tr>',
  '<tr><td>Points: {{ contact.points }} · Code: {{ contact.coupon | upcase }}</td></tr>',
  paragraph.repeat(6),
  '<tr><td>{{ campaign.name }} · sent to {{ contact.email }} · <a href="{{ unsubscribe_url }}">Unsubscribe</a></td></tr>',
  '</table></body></html>',
].join('\n');
const stored: StoredTemplate = {
  id: randomUUID(),
  subject: '{{ contact.first_name | default: "Friend" }}, your {{ campaign.name }} offer',
  html,
  text: 'Hello {{ contact.first_name }}, points {{ contact.points }}. Unsubscribe: {{ unsubscribe_url }}',
  updatedAt: new Date(),
};

const tenantId = randomUUID() as TenantId;
const campaign: CampaignInfo = {
  id: randomUUID(),
  tenantId,
  name: 'Spring sale',
  status: 'sending',
  messageClass: 'marketing',
  fromEmail: 'news@sender.example',
  fromName: 'Sender Nëws',
  replyTo: null,
};
const secret = 'a-bench-secret-of-at-least-32-bytes!!';
const keys = generateDkimKeys('sender.example');
const identity: MailIdentity = {
  sendingDomain: 'sender.example',
  bounce: { domain: 'bounces.sender.example', secret },
  unsubscribe: { baseUrl: 'https://u.sender.example', secret },
  feedbackSenderId: 'relais',
  signers: keys.signers,
};
const attributes = (i: number) => ({
  first_name: `Ana<${i}>`,
  last_name: 'Lima & Co',
  plan: 'pro',
  renewal_date: '2025-01-01',
  city: 'Lyon',
  vip: i % 2 === 0,
  points: i,
  coupon: 'spring25',
});

const BATCH = 500;
const batch = createEnvelope({
  type: 'dispatch.batch',
  tenantId,
  data: {
    campaignId: campaign.id,
    batch: 0,
    messageClass: 'marketing',
    recipients: Array.from({ length: BATCH }, (_, i) => ({
      messageId: randomUUID(),
      contactId: randomUUID(),
      email: `user${i}@example.com`,
      variant: 'A',
      templateId: stored.id,
      attributes: attributes(i),
    })),
  },
});
const store: DispatchStore = {
  loadCampaign: async () => campaign,
  loadTemplates: async () => [stored],
  queuedMessages: async (_, ids) => new Set(ids),
  trackedMessages: async () => new Set(),
  saveLinks: async () => undefined,
  markFailed: async () => undefined,
  markCancelled: async () => 0,
};
let published = 0;
let bytes = 0;
const ports = {
  store,
  publish: async (envelopes: Array<{ data: { rawBase64: string } }>) => {
    published += envelopes.length;
    for (const envelope of envelopes) bytes += envelope.data.rawBase64.length;
  },
  templates: createCompiledTemplates(),
  identity,
  route: createPoolRouter({ defaultPool: 'default' as never, rules: [] }),
  now: () => new Date(),
  logger: createLogger({ service: 'dispatcher-bench', level: 'silent' }),
};

async function handlerRate(seconds: number): Promise<number> {
  const before = published;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) await onDispatchBatch(batch, ports);
  return (published - before) / ((performance.now() - started) / 1000);
}

async function composeRate(seconds: number): Promise<number> {
  const entry = ports.templates.get(stored);
  if (!entry.ok) throw entry.error;
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const recipient = batch.data.recipients[count % BATCH]!;
    const outcome = await composeMessage(campaign, entry.template, recipient, identity, new Date());
    if (!outcome.ok) throw outcome.error;
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

await handlerRate(1);
const format = (rate: number) => Math.round(rate).toLocaleString('en-US');
for (let run = 1; run <= 3; run++) {
  console.log(
    `run ${run}: composeMessage ${format(await composeRate(3))}/s, onDispatchBatch ${format(await handlerRate(3))}/s`,
  );
}
console.log(`average signed message: ${Math.round((bytes / published) * 0.75)} bytes`);
