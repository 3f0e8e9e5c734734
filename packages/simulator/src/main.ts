/**
 * `node --import tsx packages/simulator/src/main.ts [--profiles file.yaml] [--base-port N]
 * [--output dir] [--seed S]`: owns one SMTP listener per simulated provider until
 * SIGINT/SIGTERM (see ./cli).
 */
import { toRelaisError } from '@relais/domain';
import { runSimulatorCli } from './cli';

runSimulatorCli(process.argv.slice(2)).catch((error: unknown) => {
  const failure = toRelaisError(error);
  process.stderr.write(`relais simulator: ${failure.message}\n`);
  process.exit(1);
});
