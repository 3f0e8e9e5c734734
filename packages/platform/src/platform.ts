import {
  MessageBus,
  createMemoryTransport,
  createRabbitTransport,
  relaisWorkQueues,
  type Transport,
} from '@relais/bus';
import { mode, type KernelConfig, type Mode } from '@relais/config';
import {
  createStoreDedupe,
  migrateKernel,
  openStore,
  startOutboxRelay,
  type Store,
} from '@relais/store';
import {
  createLogger,
  createMetricsRegistry,
  startTracing,
  type Logger,
  type Registry,
} from '@relais/telemetry';
import { migrateModel } from '@relais/model';
import { createServiceRuntime, type ServiceRuntime } from '@relais/runtime';

/**
 * The kernel every relais process stands on, wired from one validated config. Services
 * receive it and add their consumers and routes; they never open their own connections.
 */
export interface Platform {
  mode: Mode;
  logger: Logger;
  metrics: Registry;
  store: Store;
  bus: MessageBus;
  runtime: ServiceRuntime;
}

/**
 * Opens the store (applying migrations), the bus (declaring the topology) and the outbox
 * relay, and builds the runtime that serves probes and owns the shutdown order. The same
 * wiring serves both modes: only the two adapters differ.
 */
export async function startPlatform(service: string, config: KernelConfig): Promise<Platform> {
  const platformMode = mode(config);
  const logger = createLogger({ service, level: config.logLevel });
  const metrics = createMetricsRegistry(service);
  const tracing = startTracing({ service, otlpEndpoint: config.otelExporterOtlpEndpoint });

  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    logger,
  });
  await migrateKernel(store, logger);
  await migrateModel(store, logger);

  const transport: Transport =
    platformMode === 'distributed' && config.amqpUrl
      ? await createRabbitTransport({ url: config.amqpUrl, logger, connectionName: service })
      : createMemoryTransport();
  const bus = new MessageBus({
    transport,
    logger,
    metrics,
    namespace: config.namespace,
    dedupe: createStoreDedupe(store),
  });
  await bus.declare(relaisWorkQueues(config.namespace));

  const relay = startOutboxRelay({
    store,
    logger,
    metrics,
    publish: (envelopes, routingKeys) =>
      Promise.all(
        envelopes.map((envelope, i) => bus.publish(envelope, { routingKey: routingKeys[i] })),
      ).then(() => undefined),
  });

  const runtime = createServiceRuntime({
    service,
    logger,
    metrics,
    host: config.httpHost,
    port: config.httpPort,
    shutdownTimeoutMs: config.shutdownTimeout,
    readiness: { bus: () => bus.ping(), store: () => store.ping() },
  });
  // Order matters: stop taking work, let in-flight work finish, then close what it used.
  runtime.onShutdown('outbox relay', () => relay.stop(), 'intake');
  runtime.onShutdown('bus', () => bus.close(), 'connections');
  runtime.onShutdown('store', () => store.close(), 'connections');
  runtime.onShutdown('tracing', () => tracing.shutdown(), 'telemetry');

  logger.info(
    {
      'event.action': 'platform.started',
      relais: { mode: platformMode, namespace: config.namespace, store: store.driver },
    },
    'platform kernel started',
  );
  return { mode: platformMode, logger, metrics, store, bus, runtime };
}
