import { readFileSync } from 'node:fs';

/** A V8 CPU profile (`node --cpu-prof`, an app's CPU_PROFILE_DIR) as the profile readers in bench/ use it. */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** The command line of a profile reader: its files and other arguments, and `--top N` (else `defaultTop`). */
export function profileArgs(defaultTop: number): { rest: string[]; top: number } {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : defaultTop;
  return { rest: args.filter((_, index) => topIndex < 0 || (index !== topIndex && index !== topIndex + 1)), top };
}
