import { providerOf, type Envelope, type MessageType } from '@relais/domain';

/** An event as indexed in `relais-events-*`: ECS fields, and relais' own under `relais.*`. */
export interface EcsEventDoc {
  '@timestamp': string;
  event: {
    id: string;
    action: string;
    kind: 'event';
    category: string[];
    type: string[];
    outcome?: 'success' | 'failure' | 'unknown';
    reason?: string;
    dataset: 'relais.events';
  };
  email?: { local_id?: string; direction?: 'outbound'; to?: { domain: string } };
  user_agent?: { original: string };
  source?: { ip: string };
  url?: { domain: string };
  relais: Record<string, unknown>;
}

type Data = Record<string, unknown>;

/** What each type says in ECS terms: one row per type. */
const ECS_ACTIONS: Partial<
  Record<
    MessageType,
    { category: string[]; type: string[]; outcome?: 'success' | 'failure' | 'unknown' }
  >
> = {
  'delivery.delivered': { category: ['email'], type: ['info'], outcome: 'success' },
  'delivery.deferred': { category: ['email'], type: ['info'], outcome: 'unknown' },
  'delivery.bounced': { category: ['email'], type: ['info'], outcome: 'failure' },
  'delivery.expired': { category: ['email'], type: ['info'], outcome: 'failure' },
  'complaint.received': { category: ['email'], type: ['info'] },
  'suppression.added': { category: ['email', 'configuration'], type: ['change'] },
  'engagement.opened': { category: ['email'], type: ['access'] },
  'engagement.clicked': { category: ['email', 'web'], type: ['access'] },
  'engagement.unsubscribed': { category: ['email'], type: ['change'] },
  'engagement.converted': { category: ['email'], type: ['info'] },
  'campaign.launched': { category: ['configuration'], type: ['start'] },
  'campaign.paused': { category: ['configuration'], type: ['change'] },
  'campaign.resumed': { category: ['configuration'], type: ['change'] },
  'campaign.cancelled': { category: ['configuration'], type: ['end'] },
  'campaign.completed': { category: ['configuration'], type: ['end'] },
};

/** The event types shipped to Elasticsearch (delivery, feedback, engagement, campaign life). */
export function isShipped(type: MessageType): boolean {
  return ECS_ACTIONS[type] !== undefined;
}

const pick = (data: Data, keys: readonly string[]): Data =>
  Object.fromEntries(keys.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));

function hostOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** What some types add beyond the common fields: one row per type. */
const EXTRAS: Partial<Record<MessageType, (data: Data, doc: EcsEventDoc, relais: Data) => void>> = {
  'delivery.bounced': (data, _doc, relais) => {
    relais['bounce'] = { hard: data['hard'], confidence: data['confidence'] };
  },
  'engagement.opened': (data, _doc, relais) => {
    relais['machine'] = data['machine'];
  },
  'engagement.clicked': (data, doc, relais) => {
    relais['machine'] = data['machine'];
    const host = hostOf(data['url']);
    if (host) doc.url = { domain: host };
  },
  'engagement.converted': (data, _doc, relais) => {
    Object.assign(relais, pick(data, ['amount', 'currency', 'attribution']));
    relais['conversion_id'] = data['conversionId'];
  },
  'complaint.received': (data, doc, relais) => {
    relais['feedback_type'] = data['feedbackType'];
    if (typeof data['userAgent'] === 'string') doc.user_agent = { original: data['userAgent'] };
  },
  'suppression.added': (data, doc, relais) => {
    const email = data['email'];
    if (typeof email === 'string') doc.email = { to: { domain: email.split('@').pop() ?? '' } };
    Object.assign(relais, pick(data, ['class', 'confidence']));
  },
  'campaign.paused': (data, _doc, relais) => {
    relais['pause'] = { scope: data['scope'] ?? {} };
  },
};

/**
 * The document of an event. No full address ever leaves relais here: a recipient is its
 * message id and domain, a suppression its address's domain, a click its link's host (a
 * tracked URL may carry personalized query strings).
 */
export function toEcsDoc(envelope: Envelope): EcsEventDoc | undefined {
  const action = ECS_ACTIONS[envelope.type];
  if (action === undefined) return undefined;
  const data = envelope.data as Data;
  const relais: Data = {
    tenant_id: envelope.tenantId,
    ...(typeof data['campaignId'] === 'string' && { campaign_id: data['campaignId'] }),
    ...(typeof data['messageId'] === 'string' && { message_id: data['messageId'] }),
  };
  const doc: EcsEventDoc = {
    '@timestamp': envelope.occurredAt,
    event: {
      id: envelope.id,
      action: envelope.type,
      kind: 'event',
      category: action.category,
      type: action.type,
      ...(action.outcome && { outcome: action.outcome }),
      dataset: 'relais.events',
    },
    relais,
  };
  if (typeof data['messageId'] === 'string') {
    doc.email = { local_id: data['messageId'], direction: 'outbound' };
  }
  const domain = data['recipientDomain'];
  if (typeof domain === 'string') {
    doc.email = { ...doc.email, to: { domain } };
    relais['recipient_domain'] = domain;
    relais['provider'] = providerOf(domain);
    Object.assign(relais, pick(data, ['pool', 'attempt']));
    if (data['retryAt'] !== undefined) relais['retry_at'] = data['retryAt'];
    const reply = data['reply'] as Data | undefined;
    if (reply) relais['reply'] = pick(reply, ['code', 'enhanced']);
  }
  const reason = data['reason'];
  if (typeof reason === 'string') doc.event.reason = reason;
  EXTRAS[envelope.type]?.(data, doc, relais);
  return doc;
}
