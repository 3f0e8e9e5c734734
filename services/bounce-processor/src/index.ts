import { RelaisError } from '@relais/domain';
import { parseVerp, type TokenSecrets } from '@relais/mail';
import type { Platform } from '@relais/platform';
import { createInboundSmtpListener } from './adapters/inbound-smtp';
import { createSqlBounceStore } from './adapters/sql-bounce-store';
import { createSqlInboundStore } from './adapters/sql-inbound-store';
import { createSqlReportActions } from './adapters/sql-report-actions';
import { createReportWorker, type ReportWorker } from './adapters/sql-report-worker';
import type { BounceSettings } from './config';
import { onDeliveryBounced } from './handlers/on-delivery-bounced';
import { onInboundReport } from './handlers/on-inbound-report';
import type { BounceLogEvent } from './log-events';
import type { BounceProcessorPorts, InboundMailSink, SoftBouncePolicy } from './ports';

export {
  bounceConfigSchema,
  bounceSettingsBaseSchema,
  bounceSettingsSchema,
  checkInboundSettings,
  inboundSettingsSchema,
  type BounceConfig,
  type BounceSettings,
  type InboundSettings,
  reportSettingsSchema,
  softBounceSettingsSchema,
} from './config';
export { createSqlBounceStore } from './adapters/sql-bounce-store';
export { createSqlInboundStore } from './adapters/sql-inbound-store';
export {
  bareLineEnding,
  countReceived,
  createInboundSmtpListener,
  type InboundSmtpListener,
  type InboundSmtpOptions,
} from './adapters/inbound-smtp';
export { createSqlReportActions } from './adapters/sql-report-actions';
export {
  createReportWorker,
  type ReportWorker,
  type ReportWorkerOptions,
} from './adapters/sql-report-worker';
export { onDeliveryBounced, onInboundReport };
export type { InboundReportPorts, ReportResult } from './handlers/on-inbound-report';
export {
  bounceVerdict,
  hardBounceSuppression,
  MAX_DIAGNOSTIC_CHARS,
  type BounceVerdict,
} from './domain/bounce-verdict';
export {
  decideReport,
  reportMessageRefs,
  type MessageLocator,
  type MessageRef,
  type ReportDecision,
} from './domain/report-verdict';
export { repeatedSoftBounceSuppression, SOFT_BOUNCE_REPEATED } from './domain/soft-bounces';
export { BOUNCE_LOG_EVENTS, type BounceLogEvent } from './log-events';
export type * from './ports';

/** The queue (under the platform namespace) that receives every `delivery.bounced` event. */
export function bounceQueue(namespace: string): string {
  return `${namespace}.bounce.events`;
}

/** What `startBounceProcessor` needs besides the platform: its settings and the namespace. */
export type StartBounceProcessorConfig = BounceSettings & { namespace: string };

/** What `startBounceProcessor` started that the caller may want to know. */
export interface BounceProcessorHandle {
  /** The inbound SMTP listener's bound port, when it is enabled. */
  inboundPort?: number;
  /** The inbound report worker (tests drain it instead of waiting for a poll). */
  reports: ReportWorker;
}

/** The message id of a VERP address sealed with one of `secrets`; none without secrets. */
function verpOpener(secrets: TokenSecrets | undefined) {
  return (address: string) => {
    if (secrets === undefined) return undefined;
    const verp = parseVerp(address, secrets);
    return verp.ok ? verp.messageId : undefined;
  };
}

/**
 * Subscribes the bounce handler on the platform's bus (the queue is part of the topology
 * the platform declares), starts the inbound report worker, and starts the inbound SMTP
 * listener when `inbound.enabled`. On shutdown the consumer and the listener stop taking
 * work in the intake phase; the drain phase waits for the transactions in flight and the
 * report batch in progress.
 */
export async function startBounceProcessor(
  platform: Platform,
  config: StartBounceProcessorConfig,
): Promise<BounceProcessorHandle> {
  const softBounces: SoftBouncePolicy = {
    threshold: config.softBounces.threshold,
    windowMs: config.softBounces.window,
  };
  const bounces = createSqlBounceStore(platform.store, { softBounces });
  const queue = bounceQueue(config.namespace);
  const subscription = await platform.bus.subscribe(
    queue,
    {
      'delivery.bounced': (envelope, { logger }) =>
        platform.runtime.trackInFlight(
          onDeliveryBounced(envelope, { bounces, logger } satisfies BounceProcessorPorts),
        ),
    },
    { prefetch: config.prefetch },
  );
  platform.runtime.onShutdown('bounce consumer', () => subscription.cancel(), 'intake');
  platform.logger.info(
    {
      'event.action': 'bounce.consumer_started' satisfies BounceLogEvent,
      relais: { queue },
    },
    'bounce processor consuming',
  );

  // Runs whether or not this process listens: in a deployment with several replicas, any
  // of them may take the reports another one's listener stored.
  const openVerp = verpOpener(config.bounceSecret);
  const reports = createReportWorker({
    store: platform.store,
    handle: (report, tx) =>
      onInboundReport(report, {
        actions: createSqlReportActions(tx, { softBounces }),
        openVerp,
        logger: platform.logger,
      }),
    logger: platform.logger,
    batchSize: config.reports.batchSize,
    pollIntervalMs: config.reports.pollInterval,
    maxAttempts: config.reports.maxAttempts,
  });
  platform.runtime.onShutdown('inbound report worker', () => reports.stop(), 'drain');

  if (!config.inbound.enabled) return { reports };
  if (config.bounceSecret === undefined) {
    throw new RelaisError('CONFIG_INVALID', 'the inbound listener needs bounceSecret');
  }
  const stored = createSqlInboundStore(platform.store);
  const sink: InboundMailSink = {
    onMessage: async (mail) => {
      await stored.onMessage(mail);
      // Committed: the worker can act on it now rather than at the next poll.
      reports.wake();
    },
  };
  const listener = createInboundSmtpListener({
    settings: config.inbound,
    secrets: config.bounceSecret,
    sink,
    logger: platform.logger,
  });
  const inboundPort = await listener.listen();
  platform.runtime.onShutdown('inbound smtp', () => listener.close(), 'intake');
  return { inboundPort, reports };
}
