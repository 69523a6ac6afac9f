import { describeEdgeFuzz } from './support/edge-fuzz-suite.js';
import { fuzzRuns } from './support/fuzz.js';

/** The edge fuzz suite's small budget, run by `npm test` (docs/reliability.md: The edge fuzz suite); FUZZ_RUNS and FUZZ_SEED change and replay it. */
describeEdgeFuzz({ runs: fuzzRuns(30), timeoutMs: 60_000 });
