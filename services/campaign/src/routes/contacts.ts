import { z } from 'zod';
import {
  deleteContact,
  findContactByEmail,
  getContact,
  listContacts,
  updateContact,
  upsertContact,
} from '../adapters/contacts';
import { consentHistory, recordConsent } from '../adapters/consent';
import { defineRoute, type Route } from '@relais/http-api';
import {
  attributes,
  contactView,
  id,
  isoDate,
  limitQuery,
  page,
  purpose,
  tagName,
} from '../http/schemas';
import type { RouteDeps } from './context';

const contactParams = z.object({ contactId: id });
const status = z.enum(['active', 'unsubscribed']);

const consentBody = z.object({
  purpose,
  granted: z.boolean(),
  source: z.string().min(1).max(200).describe('Where the decision was made, e.g. "signup-form".'),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  textVersion: z
    .string()
    .max(100)
    .optional()
    .describe('Version of the consent text the person agreed to.'),
  recordedAt: isoDate.optional().describe('When the person decided; defaults to now.'),
});

const consentRecord = z.object({
  id: z.string(),
  purpose: z.string(),
  granted: z.boolean(),
  recordedAt: isoDate,
  source: z.string(),
  ip: z.string().nullable(),
  textVersion: z.string().nullable(),
});

export function contactRoutes({ store }: RouteDeps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/contacts',
      operationId: 'upsertContact',
      summary: 'Create a contact, or merge into the one with the same address',
      description:
        'The address is normalized (trimmed, lowercased, IDN domain to punycode). Attributes are merged into existing ones; tags are added.',
      tag: 'Contacts',
      body: z.object({
        email: z.string().max(320),
        attributes: attributes.optional(),
        tags: z.array(tagName).max(100).optional(),
        status: status.optional(),
      }),
      response: contactView,
      handler: async ({ scope, body, res }) => {
        const { contact, created } = await upsertContact(store, scope.tenantId, body);
        res.status(created ? 201 : 200);
        return contact;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/contacts',
      operationId: 'listContacts',
      summary: 'List contacts (keyset pagination), or find one by address',
      tag: 'Contacts',
      query: z.object({
        limit: limitQuery,
        after: id.optional().describe('The `next` cursor of the previous page.'),
        email: z.string().max(320).optional(),
        tag: tagName.optional(),
        domain: z.string().max(255).optional(),
        status: status.optional(),
      }),
      response: page(contactView),
      handler: async ({ scope, query }) => {
        if (query.email !== undefined) {
          const found = await findContactByEmail(store, scope.tenantId, query.email);
          return { items: found ? [found] : [], next: null };
        }
        return listContacts(store, scope.tenantId, query);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/contacts/:contactId',
      operationId: 'getContact',
      summary: 'Get a contact',
      tag: 'Contacts',
      params: contactParams,
      response: contactView,
      handler: ({ scope, params }) => getContact(store, scope.tenantId, params.contactId),
    }),
    defineRoute({
      method: 'patch',
      path: '/contacts/:contactId',
      operationId: 'updateContact',
      summary: 'Update a contact',
      description:
        'Attributes are merged; an attribute set to null is removed. `tags` replaces the tags; `addTags`/`removeTags` edit them.',
      tag: 'Contacts',
      params: contactParams,
      body: z.object({
        email: z.string().max(320).optional(),
        attributes: attributes.optional(),
        tags: z.array(tagName).max(100).optional(),
        addTags: z.array(tagName).max(100).optional(),
        removeTags: z.array(tagName).max(100).optional(),
        status: status.optional(),
      }),
      response: contactView,
      handler: ({ scope, params, body }) =>
        updateContact(store, scope.tenantId, params.contactId, body),
    }),
    defineRoute({
      method: 'delete',
      path: '/contacts/:contactId',
      operationId: 'deleteContact',
      summary: 'Erase a contact',
      description:
        'Deletes the contact and its consent ledger; its past message rows keep their counts but lose the address.',
      tag: 'Contacts',
      params: contactParams,
      status: 204,
      handler: async ({ scope, params }) => {
        await deleteContact(store, scope.tenantId, params.contactId);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/contacts/:contactId/consents',
      operationId: 'recordConsent',
      summary: 'Record a consent decision (grant or withdrawal)',
      description:
        "Appends to the contact's consent ledger; nothing is ever overwritten. The contact's current state per purpose follows the latest `recordedAt`.",
      tag: 'Consent',
      params: contactParams,
      body: consentBody,
      status: 201,
      response: consentRecord,
      handler: ({ scope, params, body }) =>
        recordConsent(store, scope.tenantId, params.contactId, {
          ...body,
          recordedAt: body.recordedAt ? new Date(body.recordedAt) : undefined,
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/contacts/:contactId/consents',
      operationId: 'getConsents',
      summary: "A contact's consent ledger and current state per purpose",
      tag: 'Consent',
      params: contactParams,
      response: z.object({
        current: z.record(z.string(), z.unknown()),
        history: z.array(consentRecord),
      }),
      handler: ({ scope, params }) => consentHistory(store, scope.tenantId, params.contactId),
    }),
  ];
}
