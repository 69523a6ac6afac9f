import { profileArgs, readProfile, type ProfileNode } from './cpuprofile.js';

/**
 * Where a process's CPU time went, from a V8 CPU profile (`node --cpu-prof`;
 * docs/benchmarks.md, The whole pipeline: profile): self time by area (the
 * package, the app or lib, Node's own code, garbage collection) and by
 * function, the largest first.
 *
 * argv: <file.cpuprofile>… [--top N]
 */
const { rest: files, top } = profileArgs(25);

/** The area a frame's code belongs to: a package, an app or lib of this project, Node itself, or V8's own work. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1]!;
  const projectMatch = /dist\/((?:apps|libs)\/[^/]+)/.exec(url);
  if (projectMatch) return projectMatch[1]!;
  return url;
}

for (const file of files) {
  const profile = readProfile(file);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  for (const [index, id] of profile.samples.entries()) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  const total = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0);
  const idle = [...selfMicros].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((sum, [, micros]) => sum + micros, 0);
  const busy = total - idle;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${area}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const share = (micros: number) => `${((micros / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s sampled`);
  console.log('  by area:');
  for (const [area, micros] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${share(micros)}  ${area}`);
  console.log('  by function (self time):');
  for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${share(micros)}  ${name}`);
}
