/** One scrape of an app's `/metrics`: its samples, read from Prometheus's text format. */
export class MetricSamples {
  private constructor(private readonly samples: Array<{ name: string; labels: Record<string, string>; value: number }>) {}

  static parse(text: string): MetricSamples {
    const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
      samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
    return new MetricSamples(samples);
  }

  private matching(name: string, labels: Record<string, string>) {
    return this.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  }

  /** Whether a series of `name` with (at least) these labels is exported. */
  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.matching(name, labels).length > 0;
  }

  /** The sum of the series of `name` with (at least) these labels; 0 when none is exported. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((sum, sample) => sum + sample.value, 0);
  }
}
