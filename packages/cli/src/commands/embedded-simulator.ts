import {
  PROFILE_FILES,
  createDkimKeyStore,
  createSmtpMailSender,
  loadProfilesFile,
  startSimulator,
  type MailSender,
  type Simulator,
} from '@relais/simulator';
import type { DkimPublicKey } from '@relais/dispatcher';
import type { Platform } from '@relais/platform';
import type { CliLogEvent } from '../log-events';
import {
  loopbackInbound,
  startServices,
  type PlatformConfig,
  type ServicesOptions,
  type StartedServices,
} from './services';

/** The simulator an embedded platform delivers to, and the DNS it verifies DKIM against. */
export interface EmbeddedSimulator {
  readonly simulator: Simulator;
  /** Publishes the dispatcher's keys, as `relais dns` would tell an operator to. */
  publish(keys: readonly DkimPublicKey[]): void;
  /**
   * Where its later bounces (DSNs) and complaints (ARF) go from now on: the bounce
   * processor's inbound listener, known once the services started.
   */
  connectReturnPath(target: { host: string; port: number }): void;
}

/** What the embedded simulator is started with. */
export interface EmbeddedSimulatorOptions {
  /** A profiles file; default the shipped `demo` profiles. */
  profiles?: string;
  outputDir?: string;
  /** Every provider's complaints go to this address (the inbound listener's feedback address). */
  feedbackAddress?: string;
}

/**
 * A sender whose target is set later: the simulator starts before the services (the relay
 * needs its routes), the inbound listener it reports to only with them. A report generated
 * before then fails like one to an unreachable host: counted, not retried.
 */
function deferredSender(): MailSender & { connect(target: MailSender): void } {
  let target: MailSender | undefined;
  return {
    send: (envelope, raw) =>
      target === undefined
        ? Promise.reject(new Error('no return path connected yet'))
        : target.send(envelope, raw),
    close: () => target?.close(),
    connect: (sender) => {
      target?.close();
      target = sender;
    },
  };
}

/**
 * Starts the provider simulator inside an embedded platform, on ephemeral loopback ports,
 * stopped with the platform's connections. Its routes are the relay's only destinations.
 */
export async function startEmbeddedSimulator(
  platform: Platform,
  options: EmbeddedSimulatorOptions = {},
): Promise<EmbeddedSimulator> {
  const file = await loadProfilesFile(options.profiles ?? PROFILE_FILES.demo);
  const keys = createDkimKeyStore(file.dkimKeys);
  const { feedbackAddress } = options;
  const sender = deferredSender();
  const simulator = await startSimulator({
    profiles:
      feedbackAddress === undefined
        ? file.providers
        : file.providers.map((profile) => ({
            ...profile,
            feedback: { ...profile.feedback, address: feedbackAddress },
          })),
    seed: file.seed,
    dkimResolver: keys.resolver,
    logger: platform.logger,
    mailSender: sender,
    ...(options.outputDir === undefined ? {} : { outputDir: options.outputDir }),
  });
  // close() also closes the sender.
  platform.runtime.onShutdown('provider simulator', () => simulator.close(), 'connections');
  platform.logger.info(
    {
      'event.action': 'relais.simulator_started' satisfies CliLogEvent,
      relais: { providers: simulator.profiles.map((profile) => profile.name).join(',') },
    },
    'provider simulator started: embedded mode delivers to it only',
  );
  return {
    simulator,
    publish(published) {
      for (const key of published) keys.add(key);
    },
    connectReturnPath(target) {
      sender.connect(createSmtpMailSender(target));
    },
  };
}

/**
 * The services of `relais demo` and embedded `relais up` around the provider simulator: the
 * simulator starts first (its routes are the relay's destinations), then the services with
 * the inbound listener on loopback (`loopbackInbound`), then the simulator is pointed at it
 * (DSNs and complaints) and given the dispatcher's DKIM keys.
 */
export async function startServicesWithSimulator(
  platform: Platform,
  config: PlatformConfig,
  prepared: ServicesOptions,
  options: { routesOnly?: boolean; profiles?: string } = {},
): Promise<{ embedded: EmbeddedSimulator; services: StartedServices }> {
  const bounces =
    prepared.dispatcher === undefined
      ? undefined
      : loopbackInbound(config, prepared.dispatcher.settings);
  const feedbackAddress = bounces?.inbound.feedbackAddress;
  const embedded = await startEmbeddedSimulator(platform, {
    ...(feedbackAddress === undefined ? {} : { feedbackAddress }),
    ...(options.profiles === undefined ? {} : { profiles: options.profiles }),
  });
  const services = await startServices(platform, config, {
    ...prepared,
    relayRoutes: embedded.simulator.routes(),
    ...(options.routesOnly === undefined ? {} : { routesOnly: options.routesOnly }),
    ...(bounces === undefined ? {} : { bounces }),
  });
  embedded.publish(services.dispatcher?.dkimPublicKeys ?? []);
  const inboundPort = services.bounces?.inboundPort;
  if (inboundPort !== undefined) {
    embedded.connectReturnPath({ host: '127.0.0.1', port: inboundPort });
  }
  return { embedded, services };
}
