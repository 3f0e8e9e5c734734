import { z } from 'zod';
import { RelaisError } from '@relais/domain';
import { applyAction } from '../adapters/campaign-actions';
import {
  MESSAGE_STATES,
  createCampaign,
  getCampaign,
  listCampaigns,
  updateCampaign,
  type CampaignInput,
} from '../adapters/campaigns';
import { defineRoute, type Route } from '@relais/http-api';
import { id, isoDate } from '../http/schemas';
import type { RouteDeps } from './context';

const status = z.enum([
  'draft',
  'scheduled',
  'launched',
  'sending',
  'paused',
  'completed',
  'cancelled',
]);
const variant = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'variant names are 1-32 letters, digits, _ or -'),
  templateId: id,
  weight: z
    .number()
    .gt(0)
    .max(100)
    .describe('Share of recipients in percent; the weights add up to 100.'),
});
const campaignBody = z
  .object({
    name: z.string().min(1).max(200),
    messageClass: z
      .enum(['marketing', 'transactional'])
      .describe(
        'Marketing mail goes only to contacts with marketing consent who have not unsubscribed.',
      ),
    from: z.object({ email: z.email().max(320), name: z.string().max(200).optional() }),
    replyTo: z.email().max(320).optional(),
    segmentId: id,
    templateId: id.optional().describe('Shorthand for one variant "A" with weight 100.'),
    variants: z.array(variant).min(1).max(26).optional(),
    scheduledAt: isoDate.nullish().describe('Launching before this time schedules the campaign.'),
  })
  .refine((body) => (body.templateId === undefined) !== (body.variants === undefined), {
    message: 'give either templateId or variants',
    path: ['variants'],
  });

const counts = z.object(
  Object.fromEntries([...MESSAGE_STATES, 'total'].map((state) => [state, z.number()])),
);
const pause = z.object({
  id,
  provider: z
    .string()
    .optional()
    .describe('The mailbox provider whose mail is held (google, microsoft, yahoo, … or other).'),
  pool: z.string().optional().describe('The IP pool whose mail is held.'),
  source: z.enum(['breaker', 'user']),
  metric: z
    .string()
    .nullable()
    .describe('What tripped the breaker: bounce_rate or complaint_rate; null for a user pause.'),
  reason: z.string(),
  evidence: z
    .record(z.string(), z.unknown())
    .describe(
      'The figures at the decision: window, sample, events, rate, lowerBound, threshold, confidence.',
    ),
  pausedAt: isoDate,
  resumedAt: isoDate.nullable(),
  resumedBy: z.string().nullable(),
});
const campaignView = z.object({
  id,
  name: z.string(),
  status,
  statusReason: z.string().nullable(),
  messageClass: z.enum(['marketing', 'transactional']),
  from: z.object({ email: z.string(), name: z.string().nullable() }),
  replyTo: z.string().nullable(),
  segmentId: id,
  variants: z.array(variant),
  scheduledAt: isoDate.nullable(),
  launchedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  recipientsResolvedAt: isoDate.nullable(),
  counts: counts.describe('Recipients by state, live.'),
  variantCounts: z
    .record(z.string(), z.number())
    .describe('Recipients per variant, excluded ones left out: the split the A/B test got.'),
  pauses: z
    .array(pause)
    .describe(
      'Pauses in force first (without provider and pool: the whole campaign), then the latest resumed ones. A campaign with only slices paused stays `sending`.',
    ),
  createdAt: isoDate,
  updatedAt: isoDate,
});
const params = z.object({ campaignId: id });
const reasonBody = z.object({ reason: z.string().max(500).optional() });
const resumeBody = reasonBody.extend({
  provider: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('Resume only the paused slice of this provider (with `pool`: of both).'),
  pool: z.string().min(1).max(64).optional().describe('Resume only the paused slice of this pool.'),
});

function toInput(body: z.output<typeof campaignBody>): CampaignInput {
  const variants = body.variants ?? [{ name: 'A', templateId: body.templateId!, weight: 100 }];
  return {
    name: body.name,
    messageClass: body.messageClass,
    from: body.from,
    replyTo: body.replyTo,
    segmentId: body.segmentId,
    variants,
    scheduledAt: body.scheduledAt ? new Date(body.scheduledAt) : null,
  };
}

export function campaignRoutes({ store, now }: RouteDeps): Route[] {
  const action = (name: 'launch' | 'pause' | 'cancel', summary: string, description: string) =>
    defineRoute({
      method: 'post',
      path: `/campaigns/:campaignId/${name}`,
      operationId: `${name}Campaign`,
      summary,
      description,
      tag: 'Campaigns',
      params,
      body: reasonBody,
      response: campaignView,
      handler: ({ scope, params: p, body }) =>
        applyAction(store, scope.tenantId, p.campaignId, name, { now: now(), reason: body.reason }),
    });
  return [
    defineRoute({
      method: 'post',
      path: '/campaigns',
      operationId: 'createCampaign',
      summary: 'Create a draft campaign',
      tag: 'Campaigns',
      body: campaignBody,
      status: 201,
      response: campaignView,
      handler: ({ scope, body }) => createCampaign(store, scope.tenantId, toInput(body)),
    }),
    defineRoute({
      method: 'get',
      path: '/campaigns',
      operationId: 'listCampaigns',
      summary: 'List campaigns, newest first',
      tag: 'Campaigns',
      query: z.object({
        status: status.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
      response: z.object({ items: z.array(campaignView) }),
      handler: async ({ scope, query }) => ({
        items: await listCampaigns(store, scope.tenantId, query),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/campaigns/:campaignId',
      operationId: 'getCampaign',
      summary: 'Get a campaign with live counts of its recipients by state',
      tag: 'Campaigns',
      params,
      response: campaignView,
      handler: ({ scope, params: p }) => getCampaign(store, scope.tenantId, p.campaignId),
    }),
    defineRoute({
      method: 'put',
      path: '/campaigns/:campaignId',
      operationId: 'replaceCampaign',
      summary: 'Edit a draft campaign',
      tag: 'Campaigns',
      params,
      body: campaignBody,
      response: campaignView,
      handler: ({ scope, params: p, body }) => {
        if (!body.variants && !body.templateId)
          throw new RelaisError('VALIDATION_FAILED', 'give either templateId or variants');
        return updateCampaign(store, scope.tenantId, p.campaignId, toInput(body));
      },
    }),
    action(
      'launch',
      'Launch a draft campaign',
      'Sends now, or schedules when `scheduledAt` is in the future. Recipients are resolved from the segment at send time.',
    ),
    action(
      'pause',
      'Pause sending',
      'Recipients not yet handed to the dispatcher wait until resume.',
    ),
    defineRoute({
      method: 'post',
      path: '/campaigns/:campaignId/resume',
      operationId: 'resumeCampaign',
      summary: 'Resume a paused campaign and its paused slices',
      description:
        'Continues where it stopped; nobody is sent twice. Without a body it resumes everything paused: the campaign and every slice a circuit breaker paused (the held mail of a slice is sent again). With `provider` and/or `pool` it resumes that slice only (404 when no pause of it is in force). A sending campaign with nothing paused answers 409.',
      tag: 'Campaigns',
      params,
      body: resumeBody,
      response: campaignView,
      handler: ({ scope, params: p, body }) =>
        applyAction(store, scope.tenantId, p.campaignId, 'resume', {
          now: now(),
          reason: body.reason,
          actor: `api-key:${scope.apiKeyId}`,
          slice:
            body.provider === undefined && body.pool === undefined
              ? undefined
              : { provider: body.provider ?? '', pool: body.pool ?? '' },
        }),
    }),
    action(
      'cancel',
      'Cancel a campaign',
      'Recipients not yet handed to the dispatcher are never sent.',
    ),
  ];
}
