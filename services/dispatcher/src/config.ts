import { byteSize, duration, kernelConfigSchema, rate, withModeCheck } from '@relais/config';
import { IpPoolNameSchema, TenantIdSchema } from '@relais/domain';
import { isNetwork } from './domain/trusted-networks';
import { checkTrackingBase } from '@relais/mail';
import { z } from 'zod';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const domain = z
  .string()
  .transform((text) => text.toLowerCase())
  .pipe(z.string().regex(DOMAIN, { error: 'expected a domain name like mail.example.com' }));
// Token secrets are HMAC keys; @relais/mail refuses shorter ones at the first message, so
// refuse them here, before any connection is opened.
const tokenSecret = z
  .string()
  .min(32, { error: 'expected at least 32 characters (an HMAC key; e.g. openssl rand -hex 32)' });
const selector = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i, { error: 'expected a DNS label' });
// Recipient-domain patterns: `gmail.com` matches that domain only, `*.example.com` its
// subdomains only (list both to cover both).
const domainPattern = z
  .string()
  .transform((text) => text.toLowerCase())
  .pipe(
    z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, {
      error: 'expected a domain or *.domain',
    }),
  );

function isTrackingBase(text: string): boolean {
  try {
    checkTrackingBase(text);
    return true;
  } catch {
    return false;
  }
}

/** One DKIM key: a PEM string, or the path of a PEM file read once at start. */
const dkimKey = (defaultSelector: string) =>
  z
    .object({
      selector: selector.default(defaultSelector),
      /**
       * PKCS#8 or PKCS#1 PEM text, or a file path. Absent: an in-memory key pair is generated
       * at start (embedded mode and tests only; its public key is returned by startDispatcher).
       */
      privateKey: z.string().min(1).optional(),
    })
    .prefault({});

/** A recipient domain's reputation class: how strictly its receivers judge new senders. */
const reputationClass = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a class name like strict, lax or default');

/** One routing rule; the first rule whose conditions all hold picks the pool. */
const routeRule = z.object({
  /** Only messages of this class; every class when absent. */
  messageClass: z.enum(['marketing', 'transactional']).optional(),
  /** Only recipients at one of these domains; every domain when absent. */
  recipientDomains: z.array(domainPattern).min(1).optional(),
  /** Only recipients whose domain's reputation class (`routing.domainClasses`) is one of these. */
  reputation: z
    .union([reputationClass, z.array(reputationClass).min(1)])
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .optional(),
  pool: IpPoolNameSchema,
});

const port = z.number().int().min(0).max(65535);

/**
 * Submission by other services: SMTP (STARTTLS + AUTH with an API key), `POST /v1/messages`
 * and gRPC `Send`. In distributed mode a transport runs only when its port is set; in
 * embedded mode all three run on 127.0.0.1 at their default ports unless `enabled` is false.
 */
export const submissionSettingsSchema = z
  .object({
    /** false turns every transport off, even with ports set; absent: see above. */
    enabled: z.boolean().optional(),
    /** The address the three listeners bind; loopback unless the operator opens it. */
    host: z.string().min(1).default('127.0.0.1'),
    smtp: z
      .object({
        /** Embedded default 2587; 0 picks a free port (tests). */
        port: port.optional(),
        /** The name in the greeting and EHLO reply. */
        hostname: z.string().min(1).default('localhost'),
        maxMessageBytes: byteSize().prefault('10MB'),
        maxRecipients: z.number().int().min(1).max(1000).default(50),
        maxConnections: z.number().int().min(1).max(10_000).default(100),
        /** Idle time allowed between commands before the connection is closed. */
        socketTimeout: duration().prefault('60s'),
        /** The whole DATA phase; a client trickling its message is cut off (421). */
        dataTimeout: duration().prefault('2m'),
      })
      .prefault({}),
    http: z.object({ /** Embedded default 2580. */ port: port.optional() }).prefault({}),
    grpc: z.object({ /** Embedded default 2581. */ port: port.optional() }).prefault({}),
    /**
     * STARTTLS key and certificate: PEM text or file paths. Absent: a self-signed pair is
     * generated at start (embedded mode only; clients must then accept it explicitly).
     */
    tls: z
      .object({
        privateKey: z.string().min(1).optional(),
        certificate: z.string().min(1).optional(),
      })
      .prefault({}),
    /**
     * Clients allowed to submit over SMTP without AUTH (and without STARTTLS), like Postfix's
     * `mynetworks`: addresses or CIDR blocks (`127.0.0.1`, `10.0.0.0/8`, `::1/128`). Their mail
     * belongs to `trustedTenant`. Empty by default: every client authenticates. For load tools
     * that cannot do STARTTLS + AUTH (Postfix's smtp-source in bench/relay).
     */
    trustedNetworks: z
      .array(z.string().refine(isNetwork, { error: 'expected an IP or IP/prefix' }))
      .default([]),
    /** The tenant owning mail from `trustedNetworks`; required when they are set. */
    trustedTenant: TenantIdSchema.optional(),
    /** Per API key, over every transport: a token bucket of `burst` messages refilled at `rate`. */
    rateLimit: z
      .object({
        rate: rate().prefault('10/s'),
        burst: z.number().int().min(1).max(100_000).default(50),
      })
      .prefault({}),
  })
  .refine(
    (settings) => settings.trustedNetworks.length === 0 || settings.trustedTenant !== undefined,
    {
      error:
        'trustedNetworks needs trustedTenant: the tenant that owns mail submitted without AUTH',
      path: ['trustedTenant'],
    },
  )
  .prefault({});

/** The parsed submission settings. */
export type SubmissionSettings = z.output<typeof submissionSettingsSchema>;

/**
 * The service's own settings, for a process that hosts several services and nests them
 * under a key of its own (`relais up`: `DISPATCHER__SENDING_DOMAIN`).
 */
export const dispatcherSettingsSchema = z.object({
  /** Right-hand side of Message-ID, and the DKIM `d=` unless `dkim.domain` says otherwise. */
  sendingDomain: domain,
  /** The VERP MAIL FROM domain: its MX is the bounce processor, its SPF lists the relays. */
  bounceDomain: domain,
  /** Signs VERP addresses; the bounce processor verifies with the same secret. */
  bounceSecret: tokenSecret,
  /** `https://host[/prefix]`; one-click links are `<base>/u/<token>` (RFC 8058). */
  unsubscribeBaseUrl: z
    .url({ protocol: /^https$/, error: 'expected an https:// URL without query' })
    .refine((text) => !text.includes('?') && !text.includes('#'), {
      error: 'expected an https:// URL without query or fragment',
    }),
  /** Signs unsubscribe tokens; analytics verifies with the same secret. */
  unsubscribeSecret: tokenSecret,
  /** Also offered in List-Unsubscribe as `mailto:` when set. */
  unsubscribeMailto: z.email().optional(),
  /**
   * Open and click tracking of campaign mail (never of submitted mail). Without `baseUrl`
   * nothing is tracked. Which recipients are tracked is the tenant's `tracking_policy` over
   * the consent ledger's `tracking` purpose (docs/api/analytics.md).
   */
  tracking: z
    .object({
      /**
       * `https://host[/prefix]` served by analytics: links become `<base>/c/<token>`, the
       * pixel `<base>/o/<token>.gif`. http only on a loopback host (embedded mode).
       */
      baseUrl: z
        .url({ protocol: /^https?$/ })
        .refine(isTrackingBase, {
          error: 'expected https://host[/prefix] (http only on 127.0.0.1), no query',
        })
        .optional(),
      /** Signs tracking tokens (analytics verifies); the unsubscribe secret when absent. */
      secret: tokenSecret.optional(),
    })
    .prefault({}),
  /** Gmail Feedback-ID SenderId: constant for this sending platform. */
  feedbackSenderId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .default('relais'),
  dkim: z
    .object({
      /** `d=`; defaults to `sendingDomain`. Must align with the From domains for DMARC. */
      domain: domain.optional(),
      rsa: dkimKey('rsa1'),
      ed25519: dkimKey('ed1'),
    })
    .prefault({}),
  routing: z
    .object({
      /** The pool of a message no rule matches. */
      defaultPool: IpPoolNameSchema.prefault('default'),
      /** Checked in order; env: `DISPATCHER__ROUTING__RULES='[{"messageClass":"transactional","pool":"tx"}]'`. */
      rules: z.array(routeRule).default([]),
      /**
       * Recipient domain → reputation class, for rules' `reputation`
       * (`{"gmail.com":"strict","*.corp.example":"lax"}`); unlisted domains are `default`.
       */
      domainClasses: z.record(domainPattern, reputationClass).default({}),
    })
    .prefault({}),
  /**
   * `dispatch.batch` messages handled at once. Rendering and signing are CPU-bound (one RSA
   * signature per recipient), so more than a few per core only adds memory.
   */
  prefetch: z.number().int().min(1).max(64).default(2),
  submission: submissionSettingsSchema,
});

/** The parsed settings; what `startDispatcher` needs besides the namespace. */
export type DispatcherSettings = z.output<typeof dispatcherSettingsSchema>;

/** The configuration of a dispatcher process on its own: the kernel fields and its settings. */
export const dispatcherConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8082 }).extend(dispatcherSettingsSchema.shape),
).superRefine((config, ctx) => {
  // A generated key exists in one process only: nobody could publish its DNS record.
  if (config.amqpUrl === undefined) return;
  for (const algorithm of ['rsa', 'ed25519'] as const) {
    if (config.dkim[algorithm].privateKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dkim', algorithm, 'privateKey'],
        message: `distributed mode needs a DKIM ${algorithm} key (PEM or file path): set DKIM__${algorithm.toUpperCase()}__PRIVATE_KEY`,
      });
    }
  }
  // A generated certificate is trusted by nobody; in distributed mode it must be configured.
  const { submission } = config;
  const { tls } = submission;
  if (submission.enabled !== false && submission.smtp.port !== undefined) {
    if (tls.privateKey === undefined || tls.certificate === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['submission', 'tls'],
        message:
          'SMTP submission needs a TLS key and certificate for STARTTLS: set SUBMISSION__TLS__PRIVATE_KEY and SUBMISSION__TLS__CERTIFICATE (PEM or file paths)',
      });
    }
  }
});

/** The parsed configuration `startDispatcher` takes. */
export type DispatcherConfig = z.output<typeof dispatcherConfigSchema>;
