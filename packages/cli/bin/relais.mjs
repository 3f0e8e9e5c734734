#!/usr/bin/env node
// The `relais` command as installed by npm/pnpm (`npx relais …` from the repository root).
// The CLI is TypeScript run through tsx, as everywhere in relais: no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
