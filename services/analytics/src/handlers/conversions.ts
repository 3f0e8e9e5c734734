import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RelaisError, type CampaignId, type ContactId, type MessageId } from '@relais/domain';
import { defineRoute, id, isoDate, type Route } from '@relais/http-api';
import type { EngagementStore } from '../engagement-ports';

/** How long after an open or click a contact's conversion is still credited to it. */
export const DEFAULT_ATTRIBUTION_WINDOW_MS = 7 * 86_400_000;

const conversionBody = z
  .object({
    messageId: id.optional().describe('The message that led to the conversion, when known.'),
    contactId: id
      .optional()
      .describe(
        "Without messageId: the contact's last clicked, else last opened, message within the attribution window is credited.",
      ),
    campaignId: id.optional().describe('With contactId: only this campaign’s messages qualify.'),
    amount: z.number().min(0).max(1e12).describe('In the currency’s major unit: 12.5 is 12.50.'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .describe('ISO 4217 code, upper case.'),
    occurredAt: isoDate,
    idempotencyKey: z
      .string()
      .min(1)
      .max(200)
      .describe('The same key reports the same conversion once; a retry answers the first.'),
  })
  .refine((body) => body.messageId !== undefined || body.contactId !== undefined, {
    error: 'give messageId or contactId',
    path: ['messageId'],
  });

/** The published shape of a stored conversion. */
export const conversionView = z.object({
  conversionId: id,
  messageId: id.nullable(),
  campaignId: id.nullable(),
  contactId: id.nullable(),
  attribution: z
    .enum(['message', 'click', 'open', 'none'])
    .describe('How the message was found; `none`: no human open or click in the window.'),
  amount: z.number(),
  currency: z.string(),
  occurredAt: isoDate,
  replayed: z.boolean().describe('True when the idempotency key was seen before.'),
});

/** POST /conversions, scoped to the API key's tenant. */
export function postConversion(store: EngagementStore, attributionWindowMs: number): Route {
  return defineRoute({
    method: 'post',
    path: '/conversions',
    operationId: 'postConversion',
    summary: 'Report a conversion',
    description:
      'Attributes a conversion and its amount to a message: the one named, or the contact’s last human click (else open) within the attribution window. Idempotent by `idempotencyKey`; publishes `engagement.converted` once.',
    tag: 'Analytics',
    body: conversionBody,
    response: conversionView,
    handler: async ({ scope, body, res }) => {
      const result = await store.recordConversion({
        tenantId: scope.tenantId,
        conversionId: randomUUID(),
        idempotencyKey: body.idempotencyKey,
        messageId: body.messageId as MessageId | undefined,
        contactId: body.contactId as ContactId | undefined,
        campaignId: body.campaignId as CampaignId | undefined,
        amount: body.amount,
        currency: body.currency,
        occurredAt: new Date(body.occurredAt),
        attributionWindowMs,
      });
      if (result === 'unknown-message') {
        throw new RelaisError('NOT_FOUND', 'message not found', {
          details: { parameter: 'messageId' },
        });
      }
      // 201 for the first report; a replay answers 200 with the stored conversion.
      if (!result.replayed) res.status(201);
      return { ...result, occurredAt: result.occurredAt.toISOString() };
    },
  });
}

const count = z.number().int().min(0);

/** The published shape of a campaign's engagement figures. */
export const engagementView = z.object({
  campaignId: id,
  delivered: count,
  opens: count.describe('Every pixel fetch, replays and machines included.'),
  machineOpens: count.describe('Pixel fetches by privacy proxies, scanners or too soon.'),
  uniqueOpens: count,
  humanUniqueOpens: count.describe('Messages with at least one human open.'),
  clicks: count,
  machineClicks: count,
  uniqueClicks: count,
  humanUniqueClicks: count,
  conversions: count,
  revenue: z.record(z.string(), z.number()).describe('Conversion amounts by currency.'),
  rates: z
    .object({ humanOpen: z.number(), humanClick: z.number() })
    .describe(
      'Human unique opens and clicks over delivered, rounded to 4 decimals; 0 when nothing was delivered.',
    ),
});

/** GET /campaigns/:campaignId/engagement, scoped to the API key's tenant. */
export function getCampaignEngagement(store: EngagementStore): Route {
  return defineRoute({
    method: 'get',
    path: '/campaigns/:campaignId/engagement',
    operationId: 'getCampaignEngagement',
    summary: 'Opens, clicks and conversions of a campaign, human and machine apart',
    tag: 'Analytics',
    params: z.object({ campaignId: id }),
    response: engagementView,
    handler: async ({ scope, params }) => {
      const figures = await store.engagementFigures(
        scope.tenantId,
        params.campaignId as CampaignId,
      );
      if (figures === undefined) {
        throw new RelaisError('NOT_FOUND', 'campaign not found', {
          details: { parameter: 'campaignId' },
        });
      }
      const rate = (part: number) =>
        figures.delivered === 0 ? 0 : Math.round((part / figures.delivered) * 10_000) / 10_000;
      return {
        campaignId: params.campaignId,
        ...figures,
        rates: {
          humanOpen: rate(figures.humanUniqueOpens),
          humanClick: rate(figures.humanUniqueClicks),
        },
      };
    },
  });
}
