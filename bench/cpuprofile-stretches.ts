import { profileArgs, readProfile } from './cpuprofile.js';

/**
 * The longest stretches a process spent busy without a break, from a V8 CPU
 * profile (`node --cpu-prof`; the apps write one with CPU_PROFILE_DIR): while
 * it runs one, a process reads no socket and fires no timer, so a stretch is
 * latency for everything it holds (docs/benchmarks.md, The whole pipeline).
 * For each stretch at least MIN ms long after SKIP s (start-up): when, how
 * long, and the functions with the most samples in it, by self time and by
 * stack.
 *
 * argv: <file.cpuprofile> [MIN ms: 300] [SKIP s: 20] [--top N: 6]
 */
const { rest, top } = profileArgs(6);
const [file, minMs = '300', skipS = '20'] = rest;
const profile = readProfile(file!);
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

const frameOf = (id: number): string => {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  return `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
};
const stackOf = (id: number): string[] => {
  const stack: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) stack.push(frameOf(at));
  return stack;
};

interface Stretch {
  start: number;
  duration: number;
  samples: number[];
}
const stretches: Stretch[] = [];
let time = profile.startTime;
let open: Stretch | null = null;
for (const [index, sample] of profile.samples.entries()) {
  time += profile.timeDeltas[index]!;
  const name = nodes.get(sample)!.callFrame.functionName;
  if (name !== '(idle)' && name !== '(program)') {
    open ??= { start: time, duration: 0, samples: [] };
    open.samples.push(sample);
    continue;
  }
  if (open) {
    open.duration = time - open.start;
    if (open.duration >= Number(minMs) * 1_000 && open.start - profile.startTime >= Number(skipS) * 1_000_000) stretches.push(open);
    open = null;
  }
}

const counted = (keys: string[][]): string =>
  [...keys.reduce((counts, frames) => {
    for (const frame of new Set(frames)) counts.set(frame, (counts.get(frame) ?? 0) + 1);
    return counts;
  }, new Map<string, number>())]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, count]) => `${String(count).padStart(6)}  ${frame}`)
    .join('\n');

console.log(`${file}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled; ${stretches.length} busy stretches of ${minMs} ms or more after ${skipS} s`);
for (const stretch of stretches) {
  console.log(`\nat ${((stretch.start - profile.startTime) / 1e6).toFixed(2)} s: ${(stretch.duration / 1_000).toFixed(0)} ms busy, ${stretch.samples.length} samples`);
  console.log(`  by self time:\n${counted(stretch.samples.map((sample) => [frameOf(sample)]))}`);
  console.log(`  by stack:\n${counted(stretch.samples.map(stackOf))}`);
}
