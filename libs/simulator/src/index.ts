export { SeededRandom } from './random.js';
export { DEFAULT_MIX, DEFAULT_SIMULATION, detectionDate, SIMULATED_TYPES, simulatedEvents, Simulation, type ProfileUpsert, type SimulatedAgent, type SimulatedMessage, type SimulatedType, type SimulationOptions } from './simulation.js';
export { emptyTally, runSimulation, type RunOptions, type SimulationSink, type SimulationTally } from './run-simulation.js';
export { HttpSink, NatsSink, SinkRefusal } from './sinks.js';
