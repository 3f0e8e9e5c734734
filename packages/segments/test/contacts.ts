import type { Queryable } from '@relais/store';

/** The table segments run over, as the contacts service defines it. */
export const CONTACTS_DDL = `
CREATE TABLE contacts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  email text NOT NULL,
  domain text NOT NULL,
  attributes jsonb NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'active',
  consents jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
)`;

export const TENANT = '00000000-0000-4000-8000-00000000000a';
export const OTHER_TENANT = '00000000-0000-4000-8000-00000000000b';

/** The instant every relative date in the cases counts back from. */
export const NOW = new Date('2026-01-10T00:00:00Z');

interface Contact {
  email: string;
  /** An object, or raw JSON text when the exact spelling matters (`30.0`, `1e3`). */
  attributes: Record<string, unknown> | string;
  tags?: string[];
  status?: 'active' | 'unsubscribed';
  createdAt?: string;
}

/** Hand-made contacts, each one an edge case some rule below is about. */
export const CONTACTS: Contact[] = [
  {
    email: 'ada@example.com',
    attributes: { plan: 'pro', age: 36, vip: true, last_order_at: '2026-01-05T10:00:00Z' },
    tags: ['vip', 'newsletter'],
    createdAt: '2025-06-01T00:00:00Z',
  },
  {
    email: 'bob@example.com',
    attributes: { plan: 'free', age: 'n/a', last_order_at: '2026-01-05T10:00:00+02:00' },
    tags: ['newsletter'],
  },
  { email: 'carol@example.org', attributes: '{"plan": "Pro", "age": 30.0}' },
  { email: 'dave@sub.example.com', attributes: {} },
  {
    email: 'eve@xn--mnchen-3ya.de',
    attributes: { name: 'Éric Müller', größe: 'L' },
  },
  { email: 'frank@example.net', attributes: { plan: null, age: null } },
  { email: 'grace@example.com', attributes: { plan: ['pro', 'team'], age: [40] } },
  { email: 'heidi@example.fr', attributes: { address: { city: 'Paris', zip: '75001' } } },
  { email: 'ivan@example.fr', attributes: { address: 'Paris' } },
  { email: 'judy@example.fr', attributes: { address: { city: 'paris', zip: 69001 } } },
  {
    email: 'mallory@evil.test',
    attributes: { "'; DROP TABLE contacts; --": 'x', note: '100% real_deal' },
  },
  { email: 'niaj@example.com', attributes: { interests: ['golf', 'tennis'] } },
  { email: 'olivia@example.com', attributes: { interests: 'Mini-Golf & tennis' } },
  { email: 'peggy@example.com', attributes: { interests: [1, 2], age: '42' } },
  { email: 'quinn@example.com', attributes: { last_order_at: '2025-12-31', age: 17 } },
  { email: 'rupert@example.com', attributes: { last_order_at: '2026-01-01 00:30:00', age: 18.5 } },
  { email: 'sybil@example.com', attributes: { last_order_at: '2026-02-30', age: true } },
  { email: 'trent@example.com', attributes: { last_order_at: 'yesterday', age: { years: 3 } } },
  { email: 'uma@example.com', attributes: { last_order_at: 20260105 } },
  { email: 'victor@example.com', attributes: { last_order_at: '2025-12-31T23:30:00-01:00' } },
  { email: 'wendy@example.com', attributes: { last_order_at: '2024-02-29T12:00:00.123456Z' } },
  { email: 'xavier@example.com', attributes: { last_order_at: '2025-02-29' } },
  { email: 'yvonne@example.com', attributes: { 'utm.source': 'google', utm: { source: 'bing' } } },
  { email: 'zoe@example.com', attributes: { plan: 'pro' }, status: 'unsubscribed' },
  { email: 'amir@gmail.com', attributes: { vip: 'true' }, tags: ['VIP'] },
  { email: 'bea@gmail.com', attributes: { plan: 'pro ', city: 'São Paulo' } },
  { email: 'chen@xn--r8jz45g.jp', attributes: { city: '東京' } },
  { email: 'dina@example.com', attributes: { nickname: '50%_off\\sale' } },
  { email: 'emil@example.com', attributes: '{"score": 1e3, "ratio": -0.5}' },
  {
    email: 'fay@example.com',
    attributes: { plan: 'free' },
    createdAt: '2026-01-08T00:00:00Z',
  },
];

/** Every email of TENANT, sorted. */
export const ALL_EMAILS = CONTACTS.map((contact) => contact.email).sort();

export async function seedContacts(db: Queryable): Promise<void> {
  await db.exec(CONTACTS_DDL);
  const insert = `INSERT INTO contacts (tenant_id, email, domain, attributes, tags, status, created_at, updated_at)
    VALUES ($1, $2, $3, $4::jsonb, $5::text[], $6, $7, $7)`;
  for (const contact of CONTACTS) {
    await db.query(insert, [
      TENANT,
      contact.email,
      contact.email.slice(contact.email.indexOf('@') + 1),
      typeof contact.attributes === 'string'
        ? contact.attributes
        : JSON.stringify(contact.attributes),
      contact.tags ?? [],
      contact.status ?? 'active',
      contact.createdAt ?? '2025-01-01T00:00:00Z',
    ]);
  }
  // A lookalike in another tenant: the caller's tenant filter must keep it out of every result.
  await db.query(insert, [
    OTHER_TENANT,
    'ada@example.com',
    'example.com',
    JSON.stringify({ plan: 'pro' }),
    ['vip'],
    'active',
    '2025-01-01T00:00:00Z',
  ]);
}
