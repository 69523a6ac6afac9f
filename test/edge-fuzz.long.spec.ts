import { describeEdgeFuzz } from './support/edge-fuzz-suite.js';
import { fuzzRuns } from './support/fuzz.js';

/** The edge fuzz suite's long budget, run by `npm run test:long`: the same properties, many more inputs per edge. */
describeEdgeFuzz({ runs: fuzzRuns(2_000), timeoutMs: 280_000 });
