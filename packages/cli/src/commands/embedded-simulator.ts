import {
  PROFILE_FILES,
  createDkimKeyStore,
  loadProfilesFile,
  startSimulator,
  type Simulator,
} from '@relais/simulator';
import type { DkimPublicKey } from '@relais/dispatcher';
import type { Platform } from '@relais/platform';
import type { CliLogEvent } from '../log-events';

/** The simulator an embedded platform delivers to, and the DNS it verifies DKIM against. */
export interface EmbeddedSimulator {
  readonly simulator: Simulator;
  /** Publishes the dispatcher's keys, as `relais dns` would tell an operator to. */
  publish(keys: readonly DkimPublicKey[]): void;
}

/**
 * Starts the provider simulator inside an embedded platform, on ephemeral loopback ports,
 * stopped with the platform's connections. Its routes are the relay's only destinations.
 */
export async function startEmbeddedSimulator(
  platform: Platform,
  options: { profiles?: string; outputDir?: string } = {},
): Promise<EmbeddedSimulator> {
  const file = await loadProfilesFile(options.profiles ?? PROFILE_FILES.demo);
  const keys = createDkimKeyStore(file.dkimKeys);
  const simulator = await startSimulator({
    profiles: file.providers,
    seed: file.seed,
    dkimResolver: keys.resolver,
    logger: platform.logger,
    ...(options.outputDir === undefined ? {} : { outputDir: options.outputDir }),
  });
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
  };
}
