/**
 * An endpoint's state as integrators see it. Two owners decide it: the api
 * (an operator pauses by hand, or resumes) and the webhook-dispatcher (the
 * endpoint's delivery health: paused after failures, disabled by 410 Gone).
 * Each writes its own record; `effectiveState` combines them.
 */
export const EndpointState = {
  ACTIVE: 'ACTIVE',
  /** Too many failed attempts in a row: deliveries wait, one probe now and then. */
  PAUSED_BY_FAILURES: 'PAUSED_BY_FAILURES',
  /** The receiver answered 410 Gone: nothing is sent until someone resumes it. */
  DISABLED_GONE: 'DISABLED_GONE',
  PAUSED_BY_HAND: 'PAUSED_BY_HAND',
} as const;
export type EndpointState = (typeof EndpointState)[keyof typeof EndpointState];

/** What the api decides (the endpoint table's `state`). */
export type ManualState = typeof EndpointState.ACTIVE | typeof EndpointState.PAUSED_BY_HAND;
/** What the dispatcher decides: its `health.<id>` record in the config bucket, the one every app reads. */
export type HealthState = typeof EndpointState.ACTIVE | typeof EndpointState.PAUSED_BY_FAILURES | typeof EndpointState.DISABLED_GONE;

/** The dispatcher's record of an endpoint's delivery health. */
export interface EndpointHealth {
  state: HealthState;
  /**
   * The endpoint's `resumeGeneration` when this health was decided: a resume
   * by hand (a higher generation on the endpoint) sets older health aside.
   */
  resumeGeneration: number;
  /** When the dispatcher decided it (ISO time): a later decision always wins. */
  decidedAt: string;
}

/** Paused by hand wins; then the dispatcher's health, unless a later resume set it aside; else active. */
export function effectiveState(manual: ManualState, resumeGeneration: number, health: Pick<EndpointHealth, 'state' | 'resumeGeneration'> | undefined): EndpointState {
  if (manual === EndpointState.PAUSED_BY_HAND) return EndpointState.PAUSED_BY_HAND;
  if (health && health.resumeGeneration >= resumeGeneration) return health.state;
  return EndpointState.ACTIVE;
}
