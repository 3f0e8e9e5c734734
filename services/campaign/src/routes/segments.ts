import { z } from 'zod';
import {
  createSegment,
  deleteSegment,
  getSegment,
  listSegments,
  parseRulesField,
  previewSegment,
  updateSegment,
} from '../adapters/segments';
import { defineRoute, type Route } from '@relais/http-api';
import { id, isoDate } from '../http/schemas';
import type { RouteDeps } from './context';

const rules = z
  .unknown()
  .describe(
    'A rule document of the segment language (docs/api/segments.md), e.g. {"and": [{"attribute": "plan", "op": "=", "value": "pro"}, {"tag": "newsletter"}]}.',
  );
const segmentView = z.object({
  id,
  name: z.string(),
  rules,
  createdAt: isoDate,
  updatedAt: isoDate,
});
const previewView = z.object({
  matching: z.number(),
  marketingEligible: z.number(),
  sample: z.array(
    z.object({
      id,
      email: z.string(),
      attributes: z.record(z.string(), z.unknown()),
      tags: z.array(z.string()),
    }),
  ),
});
const params = z.object({ segmentId: id });
const sampleQuery = z.object({ sample: z.coerce.number().int().min(0).max(100).default(10) });

export function segmentRoutes({ store, now }: RouteDeps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/segments',
      operationId: 'createSegment',
      summary: 'Save a segment',
      description:
        'An invalid rule is a 400 whose `pointer` names the offending node, e.g. `/rules/and/1/op`.',
      tag: 'Segments',
      body: z.object({ name: z.string().min(1).max(200), rules }),
      status: 201,
      response: segmentView,
      handler: ({ scope, body }) => createSegment(store, scope.tenantId, body),
    }),
    defineRoute({
      method: 'get',
      path: '/segments',
      operationId: 'listSegments',
      summary: 'List segments',
      tag: 'Segments',
      response: z.object({ items: z.array(segmentView) }),
      handler: async ({ scope }) => ({ items: await listSegments(store, scope.tenantId) }),
    }),
    defineRoute({
      method: 'post',
      path: '/segments/preview',
      operationId: 'previewRules',
      summary: 'Count and sample the contacts a rule selects, without saving it',
      tag: 'Segments',
      query: sampleQuery,
      body: z.object({ rules }),
      response: previewView,
      handler: ({ scope, body, query }) =>
        previewSegment(store, scope.tenantId, parseRulesField(body.rules), {
          sampleSize: query.sample,
          now: now(),
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/segments/:segmentId',
      operationId: 'getSegment',
      summary: 'Get a segment',
      tag: 'Segments',
      params,
      response: segmentView,
      handler: ({ scope, params: p }) => getSegment(store, scope.tenantId, p.segmentId),
    }),
    defineRoute({
      method: 'patch',
      path: '/segments/:segmentId',
      operationId: 'updateSegment',
      summary: 'Rename a segment or replace its rules',
      tag: 'Segments',
      params,
      body: z.object({ name: z.string().min(1).max(200).optional(), rules: rules.optional() }),
      response: segmentView,
      handler: ({ scope, params: p, body }) =>
        updateSegment(store, scope.tenantId, p.segmentId, body),
    }),
    defineRoute({
      method: 'delete',
      path: '/segments/:segmentId',
      operationId: 'deleteSegment',
      summary: 'Delete a segment no campaign uses',
      tag: 'Segments',
      params,
      status: 204,
      handler: async ({ scope, params: p }) => {
        await deleteSegment(store, scope.tenantId, p.segmentId);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/segments/:segmentId/preview',
      operationId: 'previewSegment',
      summary: 'Count and sample the contacts a saved segment selects now',
      tag: 'Segments',
      params,
      query: sampleQuery,
      response: previewView,
      handler: async ({ scope, params: p, query }) => {
        const segment = await getSegment(store, scope.tenantId, p.segmentId);
        return previewSegment(store, scope.tenantId, parseRulesField(segment.rules), {
          sampleSize: query.sample,
          now: now(),
        });
      },
    }),
  ];
}
