import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** CPU time and memory of one process at one instant, read from /proc. */
export interface ProcessSample {
  cpuTicks: number;
  rssKb: number;
  /** VmHWM: the process's peak resident set since it started. */
  hwmKb: number;
}

/** What a named process used between `ProcessSampler.start` and `stop`. */
export interface ProcessUsage {
  pid: number;
  /** User + system CPU over the window, of the process and (optionally) its descendants. */
  cpuSeconds: number;
  /** Highest sampled resident set over the window (summed over descendants when included). */
  peakRssMb: number;
  /** VmHWM of the process itself: its lifetime peak, which catches spikes between samples. */
  hwmMb: number;
  /** The process was gone before `stop`: its figures end at the last sample that saw it. */
  exited: boolean;
}

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of /proc/<pid>/stat times; 100 on every common kernel. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime (in clock ticks) and the parent pid from the text of /proc/<pid>/stat. */
export function parseStat(text: string): { cpuTicks: number; ppid: number } {
  // The command name may hold spaces and parentheses: the fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`unexpected /proc/<pid>/stat format: ${text.slice(0, 200)}`);
  }
  return { cpuTicks: utime + stime, ppid: Number(fields[1]) };
}

/** VmRSS and VmHWM (kB) from the text of /proc/<pid>/status; 0 when absent (zombies). */
export function parseStatus(text: string): { rssKb: number; hwmKb: number } {
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** One reading of a process, or undefined when it no longer exists. */
export function readProcessSample(pid: number): ProcessSample | undefined {
  try {
    const { cpuTicks } = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const { rssKb, hwmKb } = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuTicks, rssKb, hwmKb };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid`, through the kernel's per-thread children lists. */
export function descendantPids(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const parent = pending.pop()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ')) {
        if (child === '') continue;
        found.push(Number(child));
        pending.push(Number(child));
      }
    }
  }
  return found;
}

interface Tracked {
  rootPid: number;
  /** Per pid of the tree: ticks when first seen (0 for those born after start) and lately. */
  ticks: Map<number, { first: number; last: number }>;
  peakRssKb: number;
  hwmKb: number;
  exited: boolean;
}

/**
 * Samples CPU and memory of other processes (the services of an end-to-end run) from /proc,
 * so each one's share of the machine can be reported. CPU is exact for a process that
 * outlives `stop` (the kernel accumulates it); memory is the peak of periodic samples.
 * A descendant that exits between two samples loses its last interval of CPU.
 */
export class ProcessSampler {
  private tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private includeDescendants = false;

  /**
   * Takes the baseline now, then samples every `intervalMs`. With `includeDescendants`, a
   * process's children (e.g. behind a wrapper launcher) count as part of it; the pids that
   * `spawnTs` from @relais/testing returns are the node processes themselves and need not.
   */
  start(
    pids: Map<string, number>,
    intervalMs = 250,
    options: { includeDescendants?: boolean } = {},
  ): void {
    this.stopTimer();
    this.includeDescendants = options.includeDescendants ?? false;
    this.tracked = new Map();
    for (const [name, rootPid] of pids) {
      const tracked: Tracked = {
        rootPid,
        ticks: new Map(),
        peakRssKb: 0,
        hwmKb: 0,
        exited: false,
      };
      this.sample(tracked, true);
      this.tracked.set(name, tracked);
    }
    this.timer = setInterval(() => {
      for (const tracked of this.tracked.values()) this.sample(tracked, false);
    }, intervalMs);
    this.timer.unref();
  }

  /** Takes a last sample and stops; usage per name given to `start`. */
  stop(): Record<string, ProcessUsage> {
    this.stopTimer();
    const ticks = clockTicksPerSecond();
    const usage: Record<string, ProcessUsage> = {};
    for (const [name, tracked] of this.tracked) {
      this.sample(tracked, false);
      let cpuTicks = 0;
      for (const { first, last } of tracked.ticks.values()) cpuTicks += last - first;
      usage[name] = {
        pid: tracked.rootPid,
        cpuSeconds: cpuTicks / ticks,
        peakRssMb: Math.round(tracked.peakRssKb / 1024),
        hwmMb: Math.round(tracked.hwmKb / 1024),
        exited: tracked.exited,
      };
    }
    return usage;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(tracked: Tracked, baseline: boolean): void {
    if (tracked.exited) return;
    const root = readProcessSample(tracked.rootPid);
    if (root === undefined) {
      tracked.exited = true;
      return;
    }
    tracked.hwmKb = Math.max(tracked.hwmKb, root.hwmKb);
    let rssKb = root.rssKb;
    this.record(tracked, tracked.rootPid, root.cpuTicks, baseline);
    if (this.includeDescendants) {
      for (const pid of descendantPids(tracked.rootPid)) {
        const child = readProcessSample(pid);
        if (child === undefined) continue;
        rssKb += child.rssKb;
        this.record(tracked, pid, child.cpuTicks, baseline);
      }
    }
    tracked.peakRssKb = Math.max(tracked.peakRssKb, rssKb);
  }

  private record(tracked: Tracked, pid: number, cpuTicks: number, baseline: boolean): void {
    const seen = tracked.ticks.get(pid);
    if (seen) seen.last = cpuTicks;
    else tracked.ticks.set(pid, { first: baseline ? cpuTicks : 0, last: cpuTicks });
  }
}

/** Busy CPU ticks of the whole machine (every core), from /proc/stat. */
export function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return total - (fields[3] ?? 0) - (fields[4] ?? 0);
}

/** The oldest process with this exact command name (`pgrep -o -x`), if one runs. */
export function oldestPidNamed(name: string): number | undefined {
  let oldest: { pid: number; start: number } | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (stat.slice(open + 1, close) !== name) continue;
    // Field 22, starttime, counted from the field after the command name.
    const start = Number(stat.slice(close + 2).split(' ')[19]);
    if (oldest === undefined || start < oldest.start) oldest = { pid: Number(entry), start };
  }
  return oldest?.pid;
}
