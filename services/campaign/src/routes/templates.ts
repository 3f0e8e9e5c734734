import { z } from 'zod';
import { RelaisError } from '@relais/domain';
import { getContact } from '../adapters/contacts';
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  renderPreview,
  replaceTemplate,
} from '../adapters/templates';
import { defineRoute, type Route } from '@relais/http-api';
import { attributes, id, isoDate } from '../http/schemas';
import type { RouteDeps } from './context';

const templateBody = z.object({
  name: z.string().min(1).max(200),
  subject: z.string().min(1).max(2000).describe('Liquid; rendered to one line.'),
  html: z.string().max(1_000_000).nullish().describe('Liquid; every output is HTML-escaped.'),
  text: z.string().max(1_000_000).nullish().describe('Liquid; plain text.'),
});
const templateView = z.object({
  id,
  name: z.string(),
  subject: z.string(),
  html: z.string().nullable(),
  text: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
const params = z.object({ templateId: id });

export function templateRoutes({ store }: RouteDeps): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/templates',
      operationId: 'createTemplate',
      summary: 'Save a template',
      description:
        'Subject, HTML and text are Liquid templates (docs/api/templates.md). A syntax error is a 400 pointing at the part (`/html`) with line and column.',
      tag: 'Templates',
      body: templateBody,
      status: 201,
      response: templateView,
      handler: ({ scope, body }) => createTemplate(store, scope.tenantId, body),
    }),
    defineRoute({
      method: 'get',
      path: '/templates',
      operationId: 'listTemplates',
      summary: 'List templates',
      tag: 'Templates',
      response: z.object({ items: z.array(templateView) }),
      handler: async ({ scope }) => ({ items: await listTemplates(store, scope.tenantId) }),
    }),
    defineRoute({
      method: 'get',
      path: '/templates/:templateId',
      operationId: 'getTemplate',
      summary: 'Get a template',
      tag: 'Templates',
      params,
      response: templateView,
      handler: ({ scope, params: p }) => getTemplate(store, scope.tenantId, p.templateId),
    }),
    defineRoute({
      method: 'put',
      path: '/templates/:templateId',
      operationId: 'replaceTemplate',
      summary: 'Replace a template',
      tag: 'Templates',
      params,
      body: templateBody,
      response: templateView,
      handler: ({ scope, params: p, body }) =>
        replaceTemplate(store, scope.tenantId, p.templateId, body),
    }),
    defineRoute({
      method: 'delete',
      path: '/templates/:templateId',
      operationId: 'deleteTemplate',
      summary: 'Delete a template no campaign uses',
      tag: 'Templates',
      params,
      status: 204,
      handler: async ({ scope, params: p }) => {
        await deleteTemplate(store, scope.tenantId, p.templateId);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/templates/:templateId/preview',
      operationId: 'previewTemplate',
      summary: 'Render a template for one contact',
      description: 'Give a stored contact by id, or sample data inline.',
      tag: 'Templates',
      params,
      body: z.object({
        contactId: id.optional(),
        contact: z
          .object({ email: z.string().max(320), attributes: attributes.default({}) })
          .optional(),
        campaignName: z.string().max(200).optional(),
      }),
      response: z.object({
        subject: z.string(),
        html: z.string().optional(),
        text: z.string().optional(),
      }),
      handler: async ({ scope, params: p, body }) => {
        const template = await getTemplate(store, scope.tenantId, p.templateId);
        if (body.contactId) {
          const contact = await getContact(store, scope.tenantId, body.contactId);
          return renderPreview(template, contact, body.campaignName);
        }
        if (!body.contact) {
          throw new RelaisError('VALIDATION_FAILED', 'Give contactId or contact.', {
            details: { pointer: '/contactId' },
          });
        }
        return renderPreview(template, body.contact, body.campaignName);
      },
    }),
  ];
}
