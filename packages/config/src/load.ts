import { readFileSync } from 'node:fs';
import { RelaisError } from '@relais/domain';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { coerceEnv, envVarFor, listLeaves, objectOf, type ConfigLeaf } from './env';
import { isSecretPath, redactUrlPasswords } from './redact';
import { show } from './units';

/** Where `loadConfig` reads from; every field defaults to the real process. */
export interface LoadConfigOptions {
  /** Environment variables; `process.env` unless a test passes its own. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Config file (YAML, or JSON when it ends in `.json`); `RELAIS_CONFIG_FILE` otherwise. */
  file?: string;
  /** Command-line arguments; `--config <path>` names the config file and wins over the rest. */
  argv?: readonly string[];
  /** Keys (names or dotted paths) whose rejected values must not be echoed in problems. */
  secretKeys?: readonly string[];
}

/** One thing wrong with the configuration, located by key and by where its value came from. */
export interface ConfigProblem {
  /** Dotted schema path, e.g. `relay.maxConnections`. */
  key: string;
  /** Where the value came from or can be set: `env RELAY__MAX_CONNECTIONS`, `file relais.yaml`. */
  source: string;
  message: string;
}

/** The env var naming the config file when neither argv nor the caller does. */
export const CONFIG_FILE_ENV = 'RELAIS_CONFIG_FILE';

const problemsByError = new WeakMap<RelaisError, readonly ConfigProblem[]>();

type Origin = 'env' | 'file';

/**
 * Loads and validates config: schema defaults, overlaid by the config file, overlaid by
 * environment variables (env wins: that is what a deployment changes last). Empty env
 * values count as unset, as compose files tend to pass `AMQP_URL=` for "none". Every
 * problem is collected before throwing one `CONFIG_INVALID` error listing them all.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  options: LoadConfigOptions = {},
): z.output<S> {
  const env = options.env ?? process.env;
  const filePath =
    configFileOf(options.argv ?? process.argv.slice(2)) ??
    options.file ??
    nonEmpty(env[CONFIG_FILE_ENV]);
  const problems: ConfigProblem[] = [];
  const fileSource = filePath === undefined ? undefined : `file ${filePath}`;

  const fromFile = filePath === undefined ? {} : readConfigFile(filePath, problems);
  problems.push(...unknownKeys(schema, fromFile, [], fileSource ?? 'file'));

  const leaves = listLeaves(schema);
  const origins = new Map<string, Origin>();
  for (const leaf of leaves) {
    if (getAt(fromFile, leaf.path) !== undefined) origins.set(leaf.path.join('.'), 'file');
  }
  const merged = structuredClone(fromFile);
  for (const leaf of leaves) {
    const text = nonEmpty(env[leaf.envVar]);
    if (text === undefined) continue;
    setAt(merged, leaf.path, coerceEnv(text, leaf.kind));
    origins.set(leaf.path.join('.'), 'env');
  }

  const result = schema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(toProblem(issue, merged, leaves, origins, fileSource, options.secretKeys));
    }
  }
  if (problems.length > 0 || !result.success) throw configError(problems);
  return result.data;
}

/** The problems behind a `CONFIG_INVALID` error thrown by `loadConfig`; empty for any other error. */
export function configProblems(error: unknown): readonly ConfigProblem[] {
  return error instanceof RelaisError ? (problemsByError.get(error) ?? []) : [];
}

/** A config error as a human reads it on a terminal; any other error as its message. */
export function formatConfigError(error: unknown): string {
  const problems = configProblems(error);
  if (problems.length === 0) return error instanceof Error ? error.message : String(error);
  const lines = problems.map((problem) => `  - ${formatProblem(problem)}`);
  return [
    `Configuration is invalid (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):`,
    ...lines,
    'Fix the settings above and start again; --check-config prints the effective configuration.',
  ].join('\n');
}

/** True when the process was asked to print its effective config and exit. */
export function checkConfigRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.includes('--check-config');
}

/** Builds the `CONFIG_INVALID` error for `problems`, also usable by checks outside the schema. */
export function configError(problems: readonly ConfigProblem[]): RelaisError {
  const message = [
    `configuration has ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}:`,
    ...problems.map(formatProblem),
  ].join('\n');
  const error = new RelaisError('CONFIG_INVALID', message, {
    details: { problemCount: problems.length },
  });
  problemsByError.set(error, problems);
  return error;
}

function formatProblem(problem: ConfigProblem): string {
  return `${problem.key} (${problem.source}): ${problem.message}`;
}

function configFileOf(argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--config') return argv[index + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

function readConfigFile(path: string, problems: ConfigProblem[]): Record<string, unknown> {
  const fail = (message: string): Record<string, unknown> => {
    problems.push({ key: '(config file)', source: `file ${path}`, message });
    return {};
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return fail(`cannot be read (${code}); check RELAIS_CONFIG_FILE or --config`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    return fail(
      `is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail('must be a mapping of keys to values at the top level');
  }
  return parsed as Record<string, unknown>;
}

// A misspelt key in a file would otherwise be stripped silently and its default used.
function unknownKeys(
  schema: z.ZodType,
  value: unknown,
  path: string[],
  source: string,
): ConfigProblem[] {
  const object = objectOf(schema);
  if (!object || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  // Loose and catch-all objects accept extra keys on purpose.
  const acceptsExtra =
    object.def.catchall !== undefined && !(object.def.catchall instanceof z.ZodNever);
  const known = Object.keys(object.shape);
  const problems: ConfigProblem[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childSchema = object.shape[key] as z.ZodType | undefined;
    if (childSchema) {
      problems.push(...unknownKeys(childSchema, child, [...path, key], source));
    } else if (!acceptsExtra) {
      const guess = closest(key, known);
      problems.push({
        key: [...path, key].join('.'),
        source,
        message: `unknown key${guess === undefined ? '' : `; did you mean '${[...path, guess].join('.')}'?`}`,
      });
    }
  }
  return problems;
}

function toProblem(
  issue: z.core.$ZodIssue,
  merged: unknown,
  leaves: readonly ConfigLeaf[],
  origins: ReadonlyMap<string, Origin>,
  fileSource: string | undefined,
  secretKeys: readonly string[] | undefined,
): ConfigProblem {
  const issuePath = issue.path.map(String);
  const leaf = longestLeaf(issuePath, leaves);
  const keyPath = leaf?.path ?? issuePath;
  const key = keyPath.length === 0 ? '(config)' : issuePath.join('.');
  // A path above every leaf is a nested object: it is set through its children's vars.
  const envVar = leaf?.envVar ?? `${envVarFor(keyPath)}__*`;
  const origin = origins.get(keyPath.join('.'));
  const source =
    origin === 'env'
      ? `env ${envVar}`
      : origin === 'file' && fileSource !== undefined
        ? fileSource
        : [`env ${envVar}`, fileSource].filter(Boolean).join(' / ');

  const value = getAt(merged, issuePath);
  if (value === undefined && issue.code === 'invalid_type') {
    return {
      key,
      source,
      message: `required but not set; set ${envVar}${fileSource ? ` or '${keyPath.join('.')}' in the file` : ''}`,
    };
  }
  const secret = isSecretPath(keyPath, secretKeys);
  const shown = secret ? "'[redacted]'" : redactUrlPasswords(show(value));
  let message = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type') message = `expected ${issue.expected}, got ${shown}`;
  else if (!/\bgot\b/.test(message) && value !== undefined && !isContainer(value))
    message += `, got ${shown}`;
  // Messages built by unit types echo the input themselves; keep secrets out of them too.
  if (secret && typeof value === 'string' && value !== '')
    message = message.replaceAll(value, '[redacted]');
  return { key, source, message: redactUrlPasswords(message) };
}

function longestLeaf(
  path: readonly string[],
  leaves: readonly ConfigLeaf[],
): ConfigLeaf | undefined {
  let best: ConfigLeaf | undefined;
  for (const leaf of leaves) {
    const isPrefix =
      leaf.path.length <= path.length && leaf.path.every((part, i) => part === path[i]);
    if (isPrefix && (best === undefined || leaf.path.length > best.path.length)) best = leaf;
  }
  return best;
}

function closest(key: string, known: readonly string[]): string | undefined {
  const normalized = normalizeKey(key);
  const exact = known.find((candidate) => normalizeKey(candidate) === normalized);
  if (exact !== undefined) return exact;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(normalized, normalizeKey(candidate));
    if (distance <= 2 && (best === undefined || distance < best.distance))
      best = { candidate, distance };
  }
  return best?.candidate;
}

// `max_connections`, `MAX-CONNECTIONS` and `maxConnections` are the same intent.
function normalizeKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

function isContainer(value: unknown): boolean {
  return value !== null && typeof value === 'object';
}

function getAt(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function setAt(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = root;
  path.forEach((part, index) => {
    if (index === path.length - 1) {
      current[part] = value;
      return;
    }
    const next = current[part];
    // An env var for a nested key wins over a file value of the wrong shape.
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[part] = {};
    current = current[part] as Record<string, unknown>;
  });
}
