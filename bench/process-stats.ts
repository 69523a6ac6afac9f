import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS = 100;

/** The CPU time (user and system, in seconds) a process has used so far; 0 when it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** A process's peak resident set (VmHWM) in bytes; 0 when it is gone. */
export function peakRssOf(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1_024 : 0;
  } catch {
    return 0;
  }
}

/** The process id of the nats-server listening on `port` (by its command line), or undefined. */
export function natsServerPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!args[0]?.endsWith('nats-server')) continue;
      const portIndex = args.findIndex((arg) => arg === '-p' || arg === '--port');
      if (portIndex >= 0 && args[portIndex + 1] === String(port)) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** CPU seconds of named processes between two readings. */
export class CpuMeter {
  private readonly start = new Map<string, number>();

  constructor(private readonly pids: ReadonlyMap<string, number>) {
    for (const [name, pid] of pids) this.start.set(name, cpuSecondsOf(pid));
  }

  /** Each process's CPU seconds since the meter was made. */
  read(): Map<string, number> {
    return new Map([...this.pids].map(([name, pid]) => [name, cpuSecondsOf(pid) - this.start.get(name)!]));
  }
}
