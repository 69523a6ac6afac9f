import cliProgress from 'cli-progress';
import { HttpSink, NatsSink, runSimulation, SIMULATED_TYPES, Simulation, type SimulationSink, type SimulationTally } from '@app/simulator';
import { CliError, tokenOf, urlsOf, type ServiceOptions } from './service.js';
import type { SimulateOptions } from './simulate-options.js';

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
