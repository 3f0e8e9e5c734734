import { RssSampler } from './rss';

/** Wall time, CPU of this process and its peak RSS over one timed step. */
export interface Phase<T> {
  value: T;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** Runs `step` and measures it; CPU counts every thread of this process (user + system). */
export async function measure<T>(step: () => Promise<T>): Promise<Phase<T>> {
  const rss = new RssSampler();
  rss.start();
  const cpuStart = process.cpuUsage();
  const startMs = performance.now();
  try {
    const value = await step();
    const seconds = (performance.now() - startMs) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    return { value, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: rss.stop() };
  } finally {
    rss.stop();
  }
}
