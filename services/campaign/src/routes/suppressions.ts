import { z } from 'zod';
import { addSuppression, listSuppressions, removeSuppression } from '../adapters/suppressions';
import { defineRoute, type Route } from '@relais/http-api';
import { isoDate, limitQuery, page } from '../http/schemas';
import type { RouteDeps } from './context';

const kind = z.enum(['address', 'domain']);
const suppressionView = z.object({
  kind,
  value: z.string(),
  reason: z.string(),
  source: z.string(),
  createdAt: isoDate,
});

export function suppressionRoutes({ store }: RouteDeps): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/suppressions',
      operationId: 'listSuppressions',
      summary: 'List suppressed addresses and domains',
      tag: 'Suppressions',
      query: z.object({
        kind: kind.optional(),
        limit: limitQuery,
        after: z.string().max(400).optional(),
      }),
      response: page(suppressionView),
      handler: ({ scope, query }) => listSuppressions(store, scope.tenantId, query),
    }),
    defineRoute({
      method: 'post',
      path: '/suppressions',
      operationId: 'addSuppression',
      summary: 'Suppress an address or a whole domain',
      description:
        'Suppressed contacts are never sent mail of any class. Adding an existing suppression updates its reason.',
      tag: 'Suppressions',
      body: z.object({
        kind,
        value: z
          .string()
          .min(1)
          .max(320)
          .describe('An email address, or a domain for kind "domain".'),
        reason: z.string().min(1).max(200),
      }),
      response: suppressionView,
      handler: async ({ scope, body, res }) => {
        const { suppression, created } = await addSuppression(store, scope.tenantId, body);
        res.status(created ? 201 : 200);
        return suppression;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/suppressions/:kind/:value',
      operationId: 'removeSuppression',
      summary: 'Lift a suppression',
      tag: 'Suppressions',
      params: z.object({ kind, value: z.string().min(1).max(320) }),
      status: 204,
      handler: async ({ scope, params }) => {
        await removeSuppression(store, scope.tenantId, params.kind, params.value);
      },
    }),
  ];
}
