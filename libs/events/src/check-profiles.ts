import type { AgentEvent, Candidate } from './event.schema.js';
import type { ProfileGroup } from './profile.schema.js';

/** What the registry knows of a profile; a profile it never heard of has no state. */
export type ProfileState = { deleted: false; groups: ProfileGroup[] } | { deleted: true };

export type CheckResult =
  /** Deliver `event` (changed: its candidates were stripped or their groups replaced). */
  | { kind: 'deliver'; event: AgentEvent; changed: boolean }
  /** Every candidate's profile was deleted: the event is lost. */
  | { kind: 'lost'; event: AgentEvent; deletedProfileIds: string[] };

/**
 * Applies what the registry knows to an event's candidates: a deleted
 * profile's candidate is removed; a known profile's groups replace the ones
 * the agent sent (the platform is authoritative); a profile the registry
 * never heard of is kept as sent. An identification whose candidates were
 * all removed is lost; one that had no candidates is delivered.
 */
export function checkProfiles(event: AgentEvent, stateOf: (profileId: string) => ProfileState | undefined): CheckResult {
  const candidates: Candidate[] | undefined = 'candidates' in event ? event.candidates : undefined;
  if (!candidates || candidates.length === 0) return { kind: 'deliver', event, changed: false };
  const kept: Candidate[] = [];
  const deleted: string[] = [];
  let changed = false;
  for (const candidate of candidates) {
    const state = stateOf(candidate.profile.id);
    if (state?.deleted) {
      deleted.push(candidate.profile.id);
      changed = true;
    } else if (state) {
      if (JSON.stringify(candidate.profile_groups) !== JSON.stringify(state.groups)) changed = true;
      kept.push({ ...candidate, profile_groups: state.groups });
    } else {
      kept.push(candidate);
    }
  }
  if (!changed) return { kind: 'deliver', event, changed: false };
  if (kept.length === 0 && event.type === 'identification') {
    return { kind: 'lost', event, deletedProfileIds: deleted };
  }
  return { kind: 'deliver', event: { ...event, candidates: kept } as AgentEvent, changed: true };
}
