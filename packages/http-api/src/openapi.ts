import { z } from 'zod';
import { ERROR_CODES } from '@relais/domain';
import type { Route } from './route';
import { openApiPath } from './router';

type JsonObject = Record<string, unknown>;

/**
 * zod spells out `format: uuid/date-time` as long regexes too; the format says it for every
 * OpenAPI tool, and the patterns would triple the document.
 */
function dropFormatPatterns(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(dropFormatPatterns);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as JsonObject;
  if (typeof record['format'] === 'string') delete record['pattern'];
  Object.values(record).forEach(dropFormatPatterns);
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'openapi-3.0',
  }) as JsonObject;
  delete json['$schema'];
  dropFormatPatterns(json);
  return json;
}

function parametersOf(route: Route): JsonObject[] {
  const out: JsonObject[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    if (!schema) return;
    const json = schemaOf(schema, 'input');
    const properties = (json['properties'] ?? {}) as Record<string, JsonObject>;
    const required = new Set((json['required'] as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...rest } = property;
      out.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  return out;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CODES) },
        message: { type: 'string', description: 'What went wrong and what to do about it.' },
        pointer: {
          type: 'string',
          description: 'RFC 6901 pointer into the request body at the offending value.',
        },
        parameter: { type: 'string', description: 'The query or path parameter at fault.' },
        issues: { type: 'array', items: { type: 'object' } },
        requestId: { type: 'string', description: 'Quote it when reporting a problem.' },
      },
    },
  },
};

const describe = ({ mediaType, description }: { mediaType: string; description: string }) =>
  `\`${mediaType}\`: ${description}`;

/** What the document says about the API as a whole. */
export interface ApiInfo {
  title: string;
  version: string;
  description: string;
}

/** The OpenAPI 3 document of an API, generated from its route table. */
export function buildOpenApi(routes: readonly Route[], info: ApiInfo): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = `/v1${openApiPath(route.path)}`;
    const status = String(route.status ?? 200);
    const operation: JsonObject = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: parametersOf(route),
      responses: {
        [status]:
          status === '204'
            ? { description: 'Done; no body.' }
            : {
                description: ['Success.', ...(route.alsoProduces ?? []).map(describe)].join(' '),
                content: {
                  'application/json': {
                    schema: route.response ? schemaOf(route.response, 'output') : {},
                  },
                  ...Object.fromEntries(
                    (route.alsoProduces ?? []).map(({ mediaType }) => [
                      mediaType,
                      { schema: { type: 'string' } },
                    ]),
                  ),
                },
              },
        default: {
          description:
            'An error: a stable `code`, a message a person can act on, and where the fault is.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (route.description) operation['description'] = route.description;
    if (route.public) operation['security'] = [];
    if (route.rawBody) {
      operation['requestBody'] = {
        required: true,
        description: route.rawBody.description,
        content: Object.fromEntries(
          route.rawBody.mediaTypes.map((type) => [type, { schema: { type: 'string' } }]),
        ),
      };
    } else if (route.body) {
      operation['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
      };
    }
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.0.3',
    info: { title: info.title, version: info.version, description: info.description },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: rls_<prefix>_<secret>.',
        },
      },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
