// Writes the campaign API's OpenAPI document to services/campaign/openapi.json, the copy
// kept in the repository for clients and reviewers. A test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/openapi-document';

const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
writeFileSync(target, JSON.stringify(openApiDocument(), null, 2) + '\n');
process.stdout.write(`wrote ${target}\n`);
