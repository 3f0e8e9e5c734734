import type { Platform } from '@relais/platform';
import { createSqlDispatchStore } from './adapters/sql-dispatch-store';
import { loadDkimKeys, type DkimPublicKey } from './adapters/dkim-keys';
import type { DispatcherConfig, DispatcherSettings } from './config';
import { createCompiledTemplates } from './domain/compiled-templates';
import type { MailIdentity } from './domain/compose-message';
import { createPoolRouter, poolsOf } from './domain/pool-routing';
import { onDispatchBatch } from './handlers/on-dispatch-batch';
import type { DispatcherLogEvent } from './log-events';
import type { DispatcherPorts } from './ports';
import { startSubmission, type SubmissionEndpoints } from './submission';

export {
  dispatcherConfigSchema,
  dispatcherSettingsSchema,
  type DispatcherConfig,
  type DispatcherSettings,
} from './config';
export { createSqlDispatchStore } from './adapters/sql-dispatch-store';
export {
  generateDkimKeys,
  loadDkimKeys,
  type DkimKeySet,
  type DkimKeySetting,
  type DkimPublicKey,
} from './adapters/dkim-keys';
export {
  composeMessage,
  type CampaignInfo,
  type ComposedMessage,
  type ComposeOutcome,
  type MailIdentity,
  type RecipientInput,
} from './domain/compose-message';
export {
  createCompiledTemplates,
  type CompiledTemplates,
  type StoredTemplate,
  type TemplateEntry,
} from './domain/compiled-templates';
export { outboundEnvelopeId } from './domain/envelope-ids';
export {
  createPoolRouter,
  poolsOf,
  type MessageClass,
  type PoolRouter,
  type RouteRule,
  type RoutingPolicy,
} from './domain/pool-routing';
export { onDispatchBatch };
export {
  submitMessage,
  type Submission,
  type SubmissionContent,
  type SubmissionReceipt,
  type SubmissionSource,
} from './handlers/submit-message';
export { createSqlSubmissionStore } from './adapters/sql-submission-store';
export { createRateLimiter, type RateLimiter, type TakeOutcome } from './domain/token-bucket';
export {
  SUBMISSION_PROTO_OPTIONS,
  SUBMISSION_PROTO_PATH,
  submissionServiceClient,
} from './adapters/submission-grpc';
export { submissionRequestSchema, type SubmissionRequest } from './domain/submission-request';
export { EMBEDDED_SUBMISSION_PORTS, startSubmission, type SubmissionEndpoints } from './submission';
export { submissionSettingsSchema, type SubmissionSettings } from './config';
export { DISPATCHER_LOG_EVENTS, type DispatcherLogEvent } from './log-events';
export type * from './ports';

/** The queue (under the platform namespace) that receives every `dispatch.batch`. */
export function dispatcherQueue(namespace: string): string {
  return `${namespace}.dispatcher.batches`;
}

/** What a started dispatcher tells its host. */
export interface DispatcherHandle {
  /** Keys to serve at `<selector>._domainkey.<domain>` (the simulator's DKIM key store takes them). */
  dkimPublicKeys: DkimPublicKey[];
  /** Pools the routing policy can pick: each needs its `relay.<pool>.<class>` queues declared. */
  pools: string[];
  /** Where the submission transports listen; undefined when none runs. */
  submission: SubmissionEndpoints | undefined;
}

/** A process's mail identity and the public half of its DKIM keys. */
export interface MailSetup {
  identity: MailIdentity;
  dkimPublicKeys: DkimPublicKey[];
  /** True when a key was generated in memory because none was configured. */
  generated: boolean;
}

/**
 * The mail identity of a process: domains, secrets and the two DKIM signers, built once.
 * Throws CONFIG_INVALID for an unreadable key file or a key of the wrong type or size.
 */
export function mailIdentityOf(settings: DispatcherSettings): MailSetup {
  const keys = loadDkimKeys(settings.dkim.domain ?? settings.sendingDomain, settings.dkim);
  return {
    identity: {
      sendingDomain: settings.sendingDomain,
      bounce: { domain: settings.bounceDomain, secret: settings.bounceSecret },
      unsubscribe: {
        baseUrl: settings.unsubscribeBaseUrl,
        secret: settings.unsubscribeSecret,
        mailto: settings.unsubscribeMailto,
      },
      feedbackSenderId: settings.feedbackSenderId,
      signers: keys.signers,
      tracking:
        settings.tracking.baseUrl === undefined
          ? undefined
          : {
              baseUrl: settings.tracking.baseUrl,
              secret: settings.tracking.secret ?? settings.unsubscribeSecret,
            },
    },
    dkimPublicKeys: keys.publicKeys,
    generated: keys.generated,
  };
}

/**
 * Subscribes the dispatcher on the platform's bus. Keys are parsed (or generated) and the
 * routing policy compiled before the subscription, so a bad key fails the start, not a
 * batch. On shutdown the consumer stops taking batches and the drain phase waits for the
 * ones being rendered (an interrupted one is redelivered; its envelope ids repeat).
 */
export async function startDispatcher(
  platform: Platform,
  config: DispatcherConfig,
  /** Built beforehand by a caller that checks keys before opening connections (src/main.ts). */
  mail: MailSetup = mailIdentityOf(config),
): Promise<DispatcherHandle> {
  const { identity, dkimPublicKeys, generated } = mail;
  if (generated) {
    platform.logger.warn(
      {
        'event.action': 'dispatcher.dkim_keys_generated' satisfies DispatcherLogEvent,
        relais: { selectors: dkimPublicKeys.map((key) => key.selector) },
      },
      'DKIM keys generated in memory: receivers outside this process cannot verify them',
    );
  }
  const route = createPoolRouter(config.routing);
  const base: Omit<DispatcherPorts, 'logger'> = {
    store: createSqlDispatchStore(platform.store),
    publish: (envelopes) => platform.bus.publishMany(envelopes),
    templates: createCompiledTemplates(),
    identity,
    route,
    now: () => new Date(),
  };
  const subscription = await platform.bus.subscribe(
    dispatcherQueue(config.namespace),
    {
      'dispatch.batch': (envelope, { logger }) =>
        platform.runtime.trackInFlight(onDispatchBatch(envelope, { ...base, logger })),
    },
    { prefetch: config.prefetch },
  );
  platform.runtime.onShutdown('dispatcher consumer', () => subscription.cancel(), 'intake');
  const submission = await startSubmission(platform, config.submission, { identity, route });
  const pools = poolsOf(config.routing);
  platform.logger.info(
    {
      'event.action': 'dispatcher.started' satisfies DispatcherLogEvent,
      relais: { pools, selectors: dkimPublicKeys.map((key) => key.selector) },
    },
    'dispatcher started',
  );
  return { dkimPublicKeys, pools, submission };
}
