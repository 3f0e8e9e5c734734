/**
 * Writes deploy/elasticsearch/*.json from the templates the service installs, so the files
 * an operator applies by hand are the same (a test fails when they drift).
 * Run: pnpm --filter @relais/analytics es:assets
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { ELASTICSEARCH_ASSET_FILES } from '../src/elasticsearch/templates';

const dir = new URL('../../../deploy/elasticsearch/', import.meta.url);
await mkdir(dir, { recursive: true });
for (const [file, body] of Object.entries(ELASTICSEARCH_ASSET_FILES)) {
  await writeFile(new URL(file, dir), `${JSON.stringify(body, null, 2)}\n`);
}
