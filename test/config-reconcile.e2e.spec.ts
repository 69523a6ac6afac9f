import { configReconcileSuite } from './support/config-reconcile-suite.js';

// Thousands of filters and 240 concurrent edits; the long tier's run (config-reconcile.long.spec.ts) has 20,000 and 480.
configReconcileSuite({ seededFilters: 4_000, operationsPerWorker: 30, contested: 50 });
