import { stringify } from 'yaml';

/** Keys whose values are secret whatever the service says: never printed, never echoed in errors. */
export const SECRET_KEY_PATTERN =
  /password|passwd|secret|token|api[-_]?key|private[-_]?key|credential/i;

const REDACTED = '[redacted]';
const URL_USERINFO_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)([^\s@/]+)@/gi;
const QUERY_SECRET = /([?&](?:password|pass|pwd|token|secret|api[-_]?key)=)[^&\s#]+/gi;

/** Masks passwords inside URLs in any text (`amqp://relais:***@rabbit`), query-string secrets too. */
export function redactUrlPasswords(text: string): string {
  return text.replace(URL_USERINFO_PASSWORD, '$1***@').replace(QUERY_SECRET, '$1***');
}

/** True when the value at `path` must never be shown: listed by the service or secret by name. */
export function isSecretPath(path: readonly string[], secretKeys: readonly string[] = []): boolean {
  const dotted = path.join('.');
  const last = path[path.length - 1] ?? '';
  return secretKeys.includes(dotted) || secretKeys.includes(last) || SECRET_KEY_PATTERN.test(last);
}

/**
 * A copy of `config` safe to print: values under secret keys (`secretKeys` holds key names
 * or dotted paths, added to the built-in name pattern) become "[redacted]", and URL
 * passwords anywhere are masked.
 */
export function redactConfig(config: unknown, secretKeys: readonly string[] = []): unknown {
  const visit = (value: unknown, path: string[]): unknown => {
    if (path.length > 0 && isSecretPath(path, secretKeys) && value !== undefined) return REDACTED;
    if (typeof value === 'string') return redactUrlPasswords(value);
    if (Array.isArray(value))
      return value.map((item, index) => visit(item, [...path, String(index)]));
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, child]) => [key, visit(child, [...path, key])]),
      );
    }
    return value;
  };
  return visit(config, []);
}

/** Writes the effective config, redacted, as YAML: what `--check-config` shows. */
export function printEffectiveConfig(
  config: unknown,
  secretKeys: readonly string[] = [],
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  // Durations, rates and sizes print as parsed (ms, per second, bytes): what the code will use.
  write(`# effective configuration (secrets redacted; durations in ms, sizes in bytes)\n`);
  write(stringify(redactConfig(config, secretKeys)));
}
