// The simulator as a command: flags in, routes and stats out as JSON on stdout, logs on
// stderr, so scripts (and `relais simulator`) can read the results.
import { parseArgs } from 'node:util';
import { RelaisError } from '@relais/domain';
import { createLogger } from '@relais/telemetry';
import { createDkimKeyStore } from './dkim';
import { PROFILE_FILES, loadProfilesFile } from './profile';
import { startSimulator } from './simulator';

/**
 * Runs the simulator from command-line flags until SIGINT/SIGTERM: the routes go to stdout
 * as JSON on start, the stats on exit. `relais simulator` and this package's main call it.
 */
export async function runSimulatorCli(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      profiles: { type: 'string', default: PROFILE_FILES.default },
      host: { type: 'string', default: '127.0.0.1' },
      'base-port': { type: 'string', default: '2525' },
      output: { type: 'string' },
      seed: { type: 'string' },
      'return-path': { type: 'string' },
    },
  });
  const logger = createLogger({ service: 'relais-simulator', destination: process.stderr });
  const file = await loadProfilesFile(values.profiles);
  const simulator = await startSimulator({
    profiles: file.providers,
    host: values.host,
    basePort: Number(values['base-port']),
    seed: values.seed === undefined ? file.seed : Number(values.seed),
    dkimResolver: createDkimKeyStore(file.dkimKeys).resolver,
    logger,
    ...(values.output === undefined ? {} : { outputDir: values.output }),
    ...(values['return-path'] === undefined
      ? {}
      : { returnPath: parseHostPort(values['return-path']) }),
  });
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.write(`${JSON.stringify({ stats: simulator.stats() }, null, 2)}\n`);
    void simulator.close().then(() => process.exit(0));
  };
  // Before the routes are printed: a caller that stops the simulator as soon as it reads
  // them must find the handlers in place (on a loaded machine this process can be
  // descheduled between the write and the next statement, and an unhandled SIGINT kills it).
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`${JSON.stringify({ routes: simulator.routes() }, null, 2)}\n`);
}

/** `host:port` (the bounce processor's inbound listener), as given to `--return-path`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  // Brackets only delimit an IPv6 literal; sockets want the bare address.
  const host = value.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(at + 1));
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new RelaisError('CONFIG_INVALID', `--return-path must be host:port, got "${value}"`, {
      details: { value, fix: 'pass the inbound listener as e.g. 127.0.0.1:2526' },
    });
  }
  return { host, port };
}
