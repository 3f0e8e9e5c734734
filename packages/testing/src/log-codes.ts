import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The `event.action` codes a package's source writes (`'event.action': 'x'` or
 * `action: 'x'`), for tests that check every code is in the package's registry.
 */
export function logCodesUsedIn(srcDir: string): Set<string> {
  const used = new Set<string>();
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:action: |'event\.action': )'([a-z._]+)'/g)) {
      if (match[1] !== undefined) used.add(match[1]);
    }
  }
  return used;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}
