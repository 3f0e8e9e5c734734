import {
  createEnvelope,
  type CampaignId,
  type ContactId,
  type MessageId,
  type TenantId,
} from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';
import type {
  Conversion,
  EngagementFigures,
  EngagementStore,
  TrackedMessage,
} from '../engagement-ports';

// Delivered when the relay's report was recorded; until then (a pixel fetched before the
// delivery event is processed) the caller compares with the token's render time.
const TRACKED_MESSAGE = `
SELECT tenant_id, campaign_id,
       CASE WHEN state = 'delivered' THEN final_at END AS delivered_at
FROM messages WHERE id = $1`;

// The link is looked up in the message's own campaign (and tenant): a valid token of one
// campaign can never reach another campaign's target.
const CLICK_CONTEXT = `
SELECT m.tenant_id, m.campaign_id,
       CASE WHEN m.state = 'delivered' THEN m.final_at END AS delivered_at,
       (SELECT l.url FROM campaign_links l
        WHERE l.campaign_id = m.campaign_id AND l.link_key = $2 AND l.tenant_id = m.tenant_id) AS target,
       ARRAY(SELECT DISTINCT e.link_key FROM engagement_events e
             WHERE e.message_id = m.id AND e.kind = 'click' AND e.occurred_at >= $3::timestamptz) AS recent
FROM messages m WHERE m.id = $1`;

const INSERT_EVENT = `
INSERT INTO engagement_events
  (message_id, tenant_id, campaign_id, kind, link_key, machine, machine_reason, user_agent, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz)`;

// First marks are set once (coalesce); a human one also moves last_engaged_at, which
// attribution by contact reads. Machines never attribute a conversion.
const MARK_OPEN = `
UPDATE messages
SET opened_at = coalesce(opened_at, $2::timestamptz),
    human_opened_at = CASE WHEN $3 THEN human_opened_at ELSE coalesce(human_opened_at, $2::timestamptz) END,
    last_engaged_at = CASE WHEN $3 THEN last_engaged_at ELSE greatest(last_engaged_at, $2::timestamptz) END
WHERE id = $1`;

const MARK_CLICK = `
UPDATE messages
SET clicked_at = coalesce(clicked_at, $2::timestamptz),
    human_clicked_at = CASE WHEN $3 THEN human_clicked_at ELSE coalesce(human_clicked_at, $2::timestamptz) END,
    last_engaged_at = CASE WHEN $3 THEN last_engaged_at ELSE greatest(last_engaged_at, $2::timestamptz) END
WHERE id = $1`;

// A burst that turned out to cover every link was a scanner from its first click.
const REMARK_BURST = `
UPDATE engagement_events SET machine = true, machine_reason = 'all-links'
WHERE message_id = $1 AND kind = 'click' AND occurred_at >= $2::timestamptz AND NOT machine`;

const RECOMPUTE_HUMAN_CLICK = `
UPDATE messages
SET human_clicked_at = (SELECT min(occurred_at) FROM engagement_events
                        WHERE message_id = $1 AND kind = 'click' AND NOT machine)
WHERE id = $1`;

const FIND_CONVERSION = `
SELECT id, message_id, campaign_id, contact_id, attribution, amount::text AS amount, currency, occurred_at
FROM conversions WHERE tenant_id = $1 AND idempotency_key = $2`;

const MESSAGE_OF_TENANT = `SELECT campaign_id, contact_id FROM messages WHERE id = $1 AND tenant_id = $2`;

// The contact's last human click in the window, else last human open. Candidate messages
// come from the partial index of engaged messages; their events from the primary key.
const ATTRIBUTE_BY_CONTACT = `
SELECT m.id AS message_id, m.campaign_id, e.kind
FROM messages m
JOIN engagement_events e ON e.message_id = m.id
WHERE m.tenant_id = $1 AND m.contact_id = $2
  AND m.last_engaged_at IS NOT NULL AND m.last_engaged_at >= $4::timestamptz
  AND ($5::uuid IS NULL OR m.campaign_id = $5::uuid)
  AND NOT e.machine AND e.occurred_at <= $3::timestamptz AND e.occurred_at >= $4::timestamptz
ORDER BY (e.kind = 'click') DESC, e.occurred_at DESC
LIMIT 1`;

const INSERT_CONVERSION = `
INSERT INTO conversions
  (id, tenant_id, idempotency_key, message_id, campaign_id, contact_id, attribution, amount, currency, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
RETURNING id`;

const CAMPAIGN_EXISTS = `SELECT 1 FROM campaigns WHERE id = $2 AND tenant_id = $1`;

const MESSAGE_FIGURES = `
SELECT count(*) FILTER (WHERE state = 'delivered')::int AS delivered,
       count(opened_at)::int AS unique_opens,
       count(human_opened_at)::int AS human_unique_opens,
       count(clicked_at)::int AS unique_clicks,
       count(human_clicked_at)::int AS human_unique_clicks
FROM messages WHERE campaign_id = $2 AND tenant_id = $1`;

const EVENT_FIGURES = `
SELECT kind, machine, count(*)::int AS n
FROM engagement_events WHERE campaign_id = $1
GROUP BY kind, machine`;

const CONVERSION_FIGURES = `
SELECT currency, count(*)::int AS n, sum(amount)::text AS total
FROM conversions WHERE campaign_id = $1 AND tenant_id = $2
GROUP BY currency`;

interface MessageRow {
  tenant_id: TenantId;
  campaign_id: CampaignId | null;
  delivered_at: Date | null;
}

interface ConversionRow {
  id: string;
  message_id: MessageId | null;
  campaign_id: CampaignId | null;
  contact_id: ContactId | null;
  attribution: Conversion['attribution'];
  amount: string;
  currency: string;
  occurred_at: Date;
}

function trackedOf(row: MessageRow): TrackedMessage {
  return { tenantId: row.tenant_id, campaignId: row.campaign_id, deliveredAt: row.delivered_at };
}

function conversionOf(row: ConversionRow, replayed: boolean): Conversion {
  return {
    conversionId: row.id,
    messageId: row.message_id,
    campaignId: row.campaign_id,
    contactId: row.contact_id,
    attribution: row.attribution,
    amount: Number(row.amount),
    currency: row.currency,
    occurredAt: row.occurred_at,
    replayed,
  };
}

async function findConversion(
  tx: Queryable,
  tenantId: TenantId,
  key: string,
): Promise<Conversion | undefined> {
  const { rows } = await tx.query<ConversionRow>(FIND_CONVERSION, [tenantId, key]);
  return rows[0] === undefined ? undefined : conversionOf(rows[0], true);
}

/** Tracking, conversions and engagement figures as SQL, the same on PostgreSQL and PGlite. */
export function createSqlEngagementStore(store: Store): EngagementStore {
  return {
    async trackedMessage(messageId) {
      const { rows } = await store.query<MessageRow>(TRACKED_MESSAGE, [messageId]);
      return rows[0] === undefined ? undefined : trackedOf(rows[0]);
    },

    async clickContext(messageId, linkKey, since) {
      const { rows } = await store.query<MessageRow & { target: string | null; recent: string[] }>(
        CLICK_CONTEXT,
        [messageId, linkKey, since.toISOString()],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        message: trackedOf(row),
        target: row.target ?? undefined,
        recentLinkKeys: row.recent,
      };
    },

    record(message, input, burstSince) {
      return store.transaction(async (tx) => {
        const { machine, reason } = input.verdict;
        await tx.query(INSERT_EVENT, [
          input.messageId,
          message.tenantId,
          message.campaignId,
          input.kind,
          input.linkKey ?? null,
          machine,
          reason,
          input.userAgent.slice(0, 300),
          input.at.toISOString(),
        ]);
        const at = input.at.toISOString();
        if (input.kind === 'open') {
          await tx.query(MARK_OPEN, [input.messageId, at, machine]);
          await enqueueOutbox(
            tx,
            createEnvelope({
              type: 'engagement.opened',
              tenantId: message.tenantId,
              occurredAt: input.at,
              data: { messageId: input.messageId, machine },
            }),
          );
          return;
        }
        await tx.query(MARK_CLICK, [input.messageId, at, machine]);
        if (reason === 'all-links' && burstSince !== undefined) {
          await tx.query(REMARK_BURST, [input.messageId, burstSince.toISOString()]);
          await tx.query(RECOMPUTE_HUMAN_CLICK, [input.messageId]);
        }
        await enqueueOutbox(
          tx,
          createEnvelope({
            type: 'engagement.clicked',
            tenantId: message.tenantId,
            occurredAt: input.at,
            data: { messageId: input.messageId, url: input.target ?? '', machine },
          }),
        );
      });
    },

    recordConversion(input) {
      return store.transaction(async (tx): Promise<Conversion | 'unknown-message'> => {
        const known = await findConversion(tx, input.tenantId, input.idempotencyKey);
        if (known !== undefined) return known;
        let messageId: MessageId | null = null;
        let campaignId: CampaignId | null = input.campaignId ?? null;
        let contactId: ContactId | null = input.contactId ?? null;
        let attribution: Conversion['attribution'] = 'none';
        if (input.messageId !== undefined) {
          const { rows } = await tx.query<{
            campaign_id: CampaignId | null;
            contact_id: ContactId | null;
          }>(MESSAGE_OF_TENANT, [input.messageId, input.tenantId]);
          const row = rows[0];
          if (row === undefined) return 'unknown-message';
          messageId = input.messageId;
          campaignId = row.campaign_id;
          contactId = row.contact_id;
          attribution = 'message';
        } else if (input.contactId !== undefined) {
          const from = new Date(input.occurredAt.getTime() - input.attributionWindowMs);
          const { rows } = await tx.query<{
            message_id: MessageId;
            campaign_id: CampaignId | null;
            kind: 'open' | 'click';
          }>(ATTRIBUTE_BY_CONTACT, [
            input.tenantId,
            input.contactId,
            input.occurredAt.toISOString(),
            from.toISOString(),
            input.campaignId ?? null,
          ]);
          const row = rows[0];
          if (row !== undefined) {
            messageId = row.message_id;
            campaignId = row.campaign_id;
            attribution = row.kind;
          }
        }
        const inserted = await tx.query(INSERT_CONVERSION, [
          input.conversionId,
          input.tenantId,
          input.idempotencyKey,
          messageId,
          campaignId,
          contactId,
          attribution,
          input.amount,
          input.currency,
          input.occurredAt.toISOString(),
        ]);
        if (inserted.rowCount === 0) {
          // A concurrent request with the same key committed first: answer with its row.
          const raced = await findConversion(tx, input.tenantId, input.idempotencyKey);
          if (raced !== undefined) return raced;
        }
        await enqueueOutbox(
          tx,
          createEnvelope({
            type: 'engagement.converted',
            tenantId: input.tenantId,
            occurredAt: input.occurredAt,
            data: {
              conversionId: input.conversionId,
              messageId: messageId ?? undefined,
              campaignId: campaignId ?? undefined,
              contactId: contactId ?? undefined,
              attribution,
              amount: input.amount,
              currency: input.currency,
              occurredAt: input.occurredAt.toISOString(),
            },
          }),
        );
        return {
          conversionId: input.conversionId,
          messageId,
          campaignId,
          contactId,
          attribution,
          amount: input.amount,
          currency: input.currency,
          occurredAt: input.occurredAt,
          replayed: false,
        };
      });
    },

    async engagementFigures(tenantId, campaignId) {
      const exists = await store.query(CAMPAIGN_EXISTS, [tenantId, campaignId]);
      if (exists.rows.length === 0) return undefined;
      const messages = await store.query<{
        delivered: number;
        unique_opens: number;
        human_unique_opens: number;
        unique_clicks: number;
        human_unique_clicks: number;
      }>(MESSAGE_FIGURES, [tenantId, campaignId]);
      const events = await store.query<{ kind: string; machine: boolean; n: number }>(
        EVENT_FIGURES,
        [campaignId],
      );
      const conversions = await store.query<{ currency: string; n: number; total: string }>(
        CONVERSION_FIGURES,
        [campaignId, tenantId],
      );
      const m = messages.rows[0];
      const count = (kind: string, machine?: boolean) =>
        events.rows
          .filter((row) => row.kind === kind && (machine === undefined || row.machine === machine))
          .reduce((sum, row) => sum + row.n, 0);
      const figures: EngagementFigures = {
        delivered: m?.delivered ?? 0,
        opens: count('open'),
        machineOpens: count('open', true),
        uniqueOpens: m?.unique_opens ?? 0,
        humanUniqueOpens: m?.human_unique_opens ?? 0,
        clicks: count('click'),
        machineClicks: count('click', true),
        uniqueClicks: m?.unique_clicks ?? 0,
        humanUniqueClicks: m?.human_unique_clicks ?? 0,
        conversions: conversions.rows.reduce((sum, row) => sum + row.n, 0),
        revenue: Object.fromEntries(
          conversions.rows.map((row) => [row.currency, Number(row.total)]),
        ),
      };
      return figures;
    },
  };
}
