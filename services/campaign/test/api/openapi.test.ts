import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/openapi-document';

const committed = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'));

describe('OpenAPI document', () => {
  it('is committed as generated (run `node --import tsx services/campaign/scripts/openapi.ts`)', () => {
    expect(committed).toEqual(openApiDocument());
  });

  it('documents every operation with its error shape and security', () => {
    const operations = Object.values(committed.paths).flatMap((methods: any) =>
      Object.values(methods),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const operation of operations as any[]) {
      expect(operation.operationId).toEqual(expect.any(String));
      expect(operation.responses.default.content['application/json'].schema.$ref).toBe(
        '#/components/schemas/Error',
      );
    }
    expect(committed.paths['/v1/openapi.json'].get.security).toEqual([]);
    expect(committed.paths['/v1/contacts/imports'].post.requestBody.content).toHaveProperty(
      'text/csv',
    );
  });
});
