import { runSimulatorCli } from '@relais/simulator';

/** `relais simulator`: the provider simulator on its own (see packages/simulator). */
export async function simulator(argv: readonly string[]): Promise<void> {
  await runSimulatorCli(argv);
}
