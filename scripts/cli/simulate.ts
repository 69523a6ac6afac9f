import cliProgress from 'cli-progress';
import { HttpSink, NatsSink, runSimulation, SIMULATED_TYPES, Simulation, type SimulatedType, type SimulationSink, type SimulationTally } from '@app/simulator';
import { CliError, tokenOf, urlsOf, type ServiceOptions } from './service.js';

export interface SimulateOptions {
  agents: number;
  cameras: number;
  profiles: number;
  watchlists: number;
  events: number;
  rate: number | null;
  mix: Partial<Record<SimulatedType, number>>;
  images: boolean;
  deleteEvery: number;
  seed: number;
  over: 'http' | 'nats';
  announce: boolean;
  natsUrl: string;
  natsUser?: string;
  natsPassword?: string;
  prefix: string;
  /** A progress bar on standard error (a terminal's). */
  progress: boolean;
}

/** `identification=60,non_identification=25`: each named type's weight; the others 0. */
export function parseMix(text: string): Partial<Record<SimulatedType, number>> {
  const mix: Partial<Record<SimulatedType, number>> = {};
  for (const part of text.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [type, weight] = part.split('=');
    if (!(SIMULATED_TYPES as readonly string[]).includes(type ?? '')) throw new CliError(`--mix: unknown event type ${type}; the types: ${SIMULATED_TYPES.join(', ')}`);
    const value = Number(weight);
    if (!Number.isFinite(value) || value < 0) throw new CliError(`--mix: ${type} needs a weight of 0 or more (${part})`);
    mix[type as SimulatedType] = value;
  }
  if (Object.values(mix).every((value) => !value)) throw new CliError('--mix: give at least one type a weight above 0');
  return mix;
}

/** Runs the agent simulator against the service (HTTP with the CLI's token, or NATS as agents do); returns its tally. */
export async function simulate(service: ServiceOptions, options: SimulateOptions, signal?: AbortSignal): Promise<SimulationTally> {
  const simulation = new Simulation({
    seed: options.seed,
    agents: options.agents,
    camerasPerAgent: options.cameras,
    profiles: options.profiles,
    watchlists: options.watchlists,
    mix: options.mix,
    images: options.images,
    deleteEvery: options.deleteEvery,
  });
  const sink: SimulationSink =
    options.over === 'nats'
      ? await NatsSink.open({ servers: options.natsUrl, user: options.natsUser, pass: options.natsPassword }, options.prefix).catch((error: Error) => {
          throw new CliError(`cannot connect to NATS at ${options.natsUrl}: ${error.message}`);
        })
      : new HttpSink(urlsOf(service), tokenOf(service));
  const bar = options.progress ? new cliProgress.SingleBar({ format: 'simulating [{bar}] {value}/{total} events  {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(options.events, 0);
  try {
    return await runSimulation(simulation, sink, {
      events: options.events,
      ratePerSecond: options.rate,
      announce: options.announce,
      signal,
      onSent: (tally) => bar?.update(tally.events),
    });
  } finally {
    bar?.stop();
    await sink.close();
  }
}

/** The tally as the command prints it. */
export function tallyLines(tally: SimulationTally): string[] {
  const types = SIMULATED_TYPES.filter((type) => tally.byType[type] > 0).map((type) => `${type} ${tally.byType[type]}`);
  const candidates = Object.entries(tally.candidates).map(([count, events]) => `${count}: ${events}`);
  return [
    `sent ${tally.events} events (${types.join(', ')})`,
    `identifications by candidates: ${candidates.join(', ') || 'none'}`,
    `profiles announced ${tally.profilesAnnounced}, deleted ${tally.profilesDeleted}; lost events expected ${tally.lostExpected}`,
  ];
}
