import { configReconcileSuite } from './support/config-reconcile-suite.js';

// 20,000 filters seeded, 480 concurrent edits through two replicas, 100 filters raced: about 80 s on a busy machine.
configReconcileSuite({ seededFilters: 20_000, operationsPerWorker: 60, contested: 100 });
