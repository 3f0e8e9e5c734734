import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { RelaisError } from '@relais/domain';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EngagementProfileSchema } from './engagement';

const rate = z.number().min(0).max(1);

// `gmail.test` or `*.gmail.test`: the shapes a relay's static route table can express.
const domainPattern = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a domain like gmail.test or *.gmail.test');

const latency = z.union([
  z.number().int().min(0),
  z
    .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
    .refine((range) => range.min <= range.max, 'latencyMs.min must not exceed latencyMs.max'),
]);

/** The bounce styles the simulator writes (see `buildDsn`); the `rfc3464-*` ones are RFC 3464 reports. */
export const ASYNC_BOUNCE_FORMATS = ['rfc3464-postfix', 'gmail', 'exchange', 'exim'] as const;
export type AsyncBounceFormat = (typeof ASYNC_BOUNCE_FORMATS)[number];

/** Why a later bounce happens, in Sisimai's reason names; each maps to one status and reply. */
export const ASYNC_BOUNCE_REASONS = ['userunknown', 'mailboxfull', 'spamdetected'] as const;
export type AsyncBounceReason = (typeof ASYNC_BOUNCE_REASONS)[number];

/**
 * How one simulated mailbox provider behaves. Profiles are data so the demo, integration
 * tests and future scenarios (async bounces, complaints, adaptive throttling) only write
 * YAML; every field is documented in the package README.
 */
export const ProviderProfileSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes (used in file paths)'),
  domains: z.array(domainPattern).min(1),
  hostname: z.string().optional(),
  latencyMs: latency.default(0),
  maxConnectionsPerClient: z.number().int().positive().nullable().default(null),
  ratePerSecond: z.number().positive().nullable().default(null),
  rateBurst: z.number().int().positive().nullable().default(null),
  unknownUserRate: rate.default(0),
  unknownUsers: z.array(z.string().min(1)).default([]),
  mailboxFullRate: rate.default(0),
  fullMailboxes: z.array(z.string().min(1)).default([]),
  greylist: z.boolean().default(false),
  greylistDelayMs: z.number().int().min(0).default(60_000),
  tempFailureRate: rate.default(0),
  requireDkimPass: z.boolean().default(false),
  maxMessageSizeBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  maxRecipientsPerMessage: z.number().int().positive().default(100),
  asyncBounceRate: rate.default(0),
  asyncBounceDelayMs: latency.default({ min: 2_000, max: 20_000 }),
  /** null: chosen from the provider's name (gmail → gmail, outlook/hotmail → exchange). */
  asyncBounceFormat: z.enum(ASYNC_BOUNCE_FORMATS).nullable().default(null),
  asyncBounceReasons: z.array(z.enum(ASYNC_BOUNCE_REASONS)).min(1).default(['userunknown']),
  complaintRate: rate.default(0),
  complaintDelayMs: latency.default({ min: 5_000, max: 30_000 }),
  feedback: z
    .object({
      /** null: `fbl@<domain of the message's MAIL FROM>`. */
      address: z
        .string()
        .regex(/^[^@\s]+@[^@\s]+$/, 'an address like fbl@bounces.test')
        .nullable()
        .default(null),
      userAgent: z.string().min(1).default('relais-simulator/1.0'),
    })
    .default({ address: null, userAgent: 'relais-simulator/1.0' }),
  /** Opens and clicks of delivered mail through its real tracking URLs (none by default). */
  engagement: EngagementProfileSchema.prefault({}),
});

/** A validated provider profile with every default filled in. */
export type ProviderProfile = z.infer<typeof ProviderProfileSchema>;

/** A profile as written by hand (YAML or code): only `name` and `domains` are required. */
export type ProviderProfileInput = z.input<typeof ProviderProfileSchema>;

/** A DKIM public key the simulator serves from memory instead of DNS. */
export const DkimKeySchema = z.object({
  domain: z.string().min(1),
  selector: z.string().min(1),
  /** PEM (SPKI) public key, or the base64 `p=` value of the TXT record. */
  publicKey: z.string().min(1),
});

/** The profiles file: a seed for every random draw, the providers and optional DKIM keys. */
export const ProfilesFileSchema = z.object({
  seed: z.number().int().default(1),
  providers: z.array(ProviderProfileSchema).min(1),
  dkimKeys: z.array(DkimKeySchema).default([]),
});

/** A parsed profiles file. */
export type ProfilesFile = z.infer<typeof ProfilesFileSchema>;

/** True when `domain` is covered by `pattern` (`*.x` covers subdomains of x, not x itself). */
/**
 * The profile files shipped with the package: `default` (providers as strict as the real
 * ones) and `demo` (tuned for `relais demo`, see the file's header).
 */
export const PROFILE_FILES = {
  default: fileURLToPath(new URL('../profiles/default.yaml', import.meta.url)),
  demo: fileURLToPath(new URL('../profiles/demo.yaml', import.meta.url)),
} as const;

export function matchesDomain(pattern: string, domain: string): boolean {
  const name = domain.toLowerCase();
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1));
  return name === pattern;
}

/**
 * Validates profiles and the cross-references zod cannot see: names and domain patterns
 * must be unique, or a recipient would have two providers.
 */
export function parseProfiles(input: readonly ProviderProfileInput[]): ProviderProfile[] {
  const result = z.array(ProviderProfileSchema).min(1).safeParse(input);
  if (!result.success) throw invalid(result.error);
  checkUnique(result.data);
  return result.data;
}

/** Parses the YAML (or JSON) text of a profiles file. */
export function parseProfilesFile(text: string): ProfilesFile {
  const result = ProfilesFileSchema.safeParse(parseYaml(text));
  if (!result.success) throw invalid(result.error);
  checkUnique(result.data.providers);
  return result.data;
}

/** Reads and validates a profiles file. */
export async function loadProfilesFile(path: string): Promise<ProfilesFile> {
  return parseProfilesFile(await readFile(path, 'utf8'));
}

function checkUnique(profiles: readonly ProviderProfile[]): void {
  const names = new Set<string>();
  const owners = new Map<string, string>();
  for (const profile of profiles) {
    if (names.has(profile.name)) {
      throw new RelaisError('CONFIG_INVALID', `provider "${profile.name}" is defined twice`, {
        details: { provider: profile.name, fix: 'give every provider a distinct name' },
      });
    }
    names.add(profile.name);
    for (const pattern of profile.domains) {
      const owner = owners.get(pattern);
      if (owner !== undefined) {
        throw new RelaisError(
          'CONFIG_INVALID',
          `domain pattern ${pattern} belongs to both "${owner}" and "${profile.name}"`,
          { details: { pattern, fix: 'list each domain pattern under one provider only' } },
        );
      }
      owners.set(pattern, profile.name);
    }
  }
}

function invalid(error: z.ZodError): RelaisError {
  const problems = error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  return new RelaisError('CONFIG_INVALID', `invalid provider profiles: ${problems.join('; ')}`, {
    cause: error,
    details: { problems: problems.length },
  });
}
