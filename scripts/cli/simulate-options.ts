import { DEFAULT_MIX, DEFAULT_SIMULATION, SIMULATED_TYPES, type SimulatedType } from '@app/simulator';
import { CliError } from './service.js';

export { DEFAULT_MIX, DEFAULT_SIMULATION };

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

