import { z } from 'zod';
import { createApiKey, getTenant, listApiKeys, revokeApiKey } from '../adapters/tenants';
import { defineRoute, type Route } from '@relais/http-api';
import { id, isoDate } from '../http/schemas';
import type { RouteDeps } from './context';

const keyView = z.object({
  id,
  name: z.string(),
  prefix: z.string(),
  createdAt: isoDate,
  lastUsedAt: isoDate.nullable(),
  revokedAt: isoDate.nullable(),
});

export function tenantRoutes({ store }: RouteDeps): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/tenant',
      operationId: 'getTenant',
      summary: 'The tenant the API key belongs to',
      tag: 'Tenant',
      response: z.object({ id, name: z.string(), createdAt: isoDate }),
      handler: ({ scope }) => getTenant(store, scope.tenantId),
    }),
    defineRoute({
      method: 'get',
      path: '/api-keys',
      operationId: 'listApiKeys',
      summary: "List the tenant's API keys (never their secrets)",
      tag: 'Tenant',
      response: z.object({ items: z.array(keyView) }),
      handler: async ({ scope }) => ({ items: await listApiKeys(store, scope.tenantId) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an API key for the same tenant',
      description: 'The `key` is shown in this response only; it is stored hashed.',
      tag: 'Tenant',
      body: z.object({ name: z.string().min(1).max(100) }),
      status: 201,
      response: keyView.extend({ key: z.string() }),
      handler: ({ scope, body }) => createApiKey(store, scope.tenantId, body.name),
    }),
    defineRoute({
      method: 'delete',
      path: '/api-keys/:keyId',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      tag: 'Tenant',
      params: z.object({ keyId: id }),
      status: 204,
      handler: async ({ scope, params }) => {
        await revokeApiKey(store, scope, params.keyId);
      },
    }),
  ];
}
