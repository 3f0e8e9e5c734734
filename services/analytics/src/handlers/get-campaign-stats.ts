import { z } from 'zod';
import { RelaisError, type CampaignId } from '@relais/domain';
import { defineRoute, id, isoDate, type Route } from '@relais/http-api';
import { COUNTERS } from '../domain/outcomes';
import { MESSAGE_STATES } from '../domain/stats';
import type { AnalyticsStore } from '../ports';

const count = z.number().int().min(0);
const rate = z.number().min(0).max(1);

/** The published shape of a campaign's stats. */
export const campaignStatsView = z.object({
  campaignId: id,
  status: z.string().describe('The campaign status: sending, completed, paused…'),
  recipients: count.describe('Message rows of the campaign, excluded recipients included.'),
  states: z
    .object(Object.fromEntries(MESSAGE_STATES.map((state) => [state, count])))
    .describe('Recipients by current message state; every state is present.'),
  counters: z
    .object(Object.fromEntries(COUNTERS.map((counter) => [counter, count])))
    .describe(
      'Events counted: final outcomes once per message, `deferred` once per deferral attempt.',
    ),
  rates: z
    .object({ delivered: rate, bounced: rate })
    .describe(
      'Shares of the recipients that were sent (not suppressed, cancelled or failed); 0 when none was.',
    ),
  finishedAt: isoDate.nullable(),
});

/** GET /campaigns/:campaignId/stats, scoped to the API key's tenant. */
export function getCampaignStats(store: AnalyticsStore): Route {
  return defineRoute({
    method: 'get',
    path: '/campaigns/:campaignId/stats',
    operationId: 'getCampaignStats',
    summary: 'Delivery figures of a campaign',
    description:
      'Recipients by state, event counters and delivery/bounce rates. Counters are eventually consistent with the states: an event moves a message and counts it in one transaction, but events are processed as they arrive.',
    tag: 'Analytics',
    params: z.object({ campaignId: id }),
    response: campaignStatsView,
    handler: async ({ scope, params }) => {
      const stats = await store.campaignStats(scope.tenantId, params.campaignId as CampaignId);
      if (stats === undefined) {
        throw new RelaisError('NOT_FOUND', 'campaign not found', {
          details: { parameter: 'campaignId' },
        });
      }
      return stats;
    },
  });
}
