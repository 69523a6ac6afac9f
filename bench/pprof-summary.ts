import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';

/**
 * Where nats-server's CPU time went, from a Go CPU profile (pprof format, as
 * nats-server started with `--profile <port>` serves it at
 * `/debug/pprof/profile`; `PIPELINE_NATS_PPROF` has the pipeline bench take
 * one per side): self time by function and by package, and the time spent in
 * and under each function (cumulative), the largest first.
 *
 * argv: <file.pb.gz>… [--top N]
 */
const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
const files = args.filter((arg, index) => topIndex < 0 || (index !== topIndex && index !== topIndex + 1));

/** The package of a Go function name: `github.com/nats-io/nats-server/v2/server.(*stream).processJetStreamMsg` → `server`. */
function packageOf(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.split('.')[0] ?? name;
}

for (const file of files) {
  const raw = readFileSync(file);
  const profile = Profile.decode(raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw);
  const strings = profile.stringTable.strings;
  const functionName = new Map(profile.function.map((fn) => [Number(fn.id), strings[Number(fn.name)] ?? '?']));
  // A location's frames, innermost first (inlined functions are lines of one location).
  const framesOf = new Map(profile.location.map((location) => [Number(location.id), location.line.map((line) => functionName.get(Number(line.functionId)) ?? '?')]));
  // The CPU time value: `cpu` in nanoseconds (the second sample type), else the first.
  const valueIndex = Math.max(0, profile.sampleType.findIndex((type) => strings[Number(type.type)] === 'cpu'));
  const self = new Map<string, number>();
  const cumulative = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const sample of profile.sample) {
    const value = Number(sample.value[valueIndex] ?? 0);
    total += value;
    const stack = sample.locationId.flatMap((id) => framesOf.get(Number(id)) ?? []);
    const leaf = stack[0] ?? '?';
    self.set(leaf, (self.get(leaf) ?? 0) + value);
    byPackage.set(packageOf(leaf), (byPackage.get(packageOf(leaf)) ?? 0) + value);
    for (const name of new Set(stack)) cumulative.set(name, (cumulative.get(name) ?? 0) + value);
  }
  const seconds = Number(profile.durationNanos) / 1e9;
  const share = (value: number) => `${((value / total) * 100).toFixed(1).padStart(5)}%`;
  const list = (title: string, entries: Map<string, number>) => {
    console.log(`  ${title}`);
    for (const [name, value] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${share(value)}  ${name}`);
  };
  console.log(`${file}: ${(total / 1e9).toFixed(2)} CPU s sampled over ${seconds.toFixed(1)} s`);
  list('self, by package', byPackage);
  list('self, by function', self);
  list('in and under, by function', cumulative);
}
