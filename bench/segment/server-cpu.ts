import { readFileSync, readdirSync } from 'node:fs';

/** Linux reports process times in clock ticks; 100 per second on every common kernel. */
const TICKS_PER_SECOND = 100;

function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU-seconds used so far by the local PostgreSQL server, every process of it: the backends
 * serving this run and the background ones (checkpointer, WAL writer, autovacuum). Exited
 * children (autovacuum workers) are counted through the postmaster's reaped-children times.
 * Undefined when the server is not on this machine (no `postgres` process visible).
 */
export function postgresCpuSeconds(): number | undefined {
  let ticks = 0;
  let found = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    if (readComm(pid) !== 'postgres') continue;
    const fields = statFields(pid);
    if (fields === undefined) continue;
    found = true;
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    ticks += Number(fields[11]) + Number(fields[12]);
    const postmaster = readComm(fields[1]!) !== 'postgres';
    if (postmaster) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return found ? ticks / TICKS_PER_SECOND : undefined;
}

function readComm(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
