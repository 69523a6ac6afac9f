export { createLogger, eventLog, runApp } from './bootstrap.js';
export { HealthServer, type ReadinessCheck, type StatusReporter } from './health-server.js';
export { RuntimeModule } from './runtime.module.js';
export { tokenFromHeaders } from './token-header.js';
export { backoffMs, DependencyUnavailableError, isTransientFailure } from './transient-failure.js';
export { retryWhileTransient, type RetryOptions } from './retry-while-transient.js';
export { ATTEMPT_DURATION_BUCKETS, consumerBacklogGauges, deadLettersCounter, deliveryLatencyHistogram, LATENCY_BUCKETS, secondsSince, STATUS_CLASSES, statusClassOf, type StatusClass } from './metrics.js';
export { DeadlineExceededError, withDeadline } from './deadline.js';
export { Rate } from './rate.js';
