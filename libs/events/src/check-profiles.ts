import type { AgentEvent, Candidate } from './event.schema.js';
import { idKey } from './id-key.js';
import type { ProfileGroup } from './profile.schema.js';

/** What the registry knows of a profile; a profile it never heard of has no state. */
export type ProfileState = { deleted: false; groups: ProfileGroup[] } | { deleted: true };

export type CheckResult =
  /** Deliver `event` (changed: its candidates were stripped or their groups replaced). */
  | { kind: 'deliver'; event: AgentEvent; changed: boolean }
  /**
   * Every candidate's profile was deleted: the event is lost. `event` is the
   * event as it would have been delivered (its candidates removed, the
   * agent's key order kept); `deletedProfileIds` are the profiles' keys.
   */
  | { kind: 'lost'; event: AgentEvent; deletedProfileIds: string[] };

/**
 * Applies what the registry knows to an event's candidates: a deleted
 * profile's candidate is removed; a known profile's groups replace the ones
 * the agent sent (the platform is authoritative); a profile the registry
 * never heard of is kept as sent. An identification whose candidates were
 * all removed is lost; one that had no candidates is delivered.
 * `stateOf` is asked with the profile id's key (idKey): however the agent
 * wrote the id, it finds the profile.
 */
export function checkProfiles(event: AgentEvent, stateOf: (profileId: string) => ProfileState | undefined): CheckResult {
  const candidates: Candidate[] | undefined = 'candidates' in event ? event.candidates : undefined;
  if (!candidates || candidates.length === 0) return { kind: 'deliver', event, changed: false };
  const kept: Candidate[] = [];
  const deleted: string[] = [];
  let changed = false;
  for (const candidate of candidates) {
    const profileKey = idKey(candidate.profile.id);
    const state = stateOf(profileKey);
    if (state?.deleted) {
      deleted.push(profileKey);
      changed = true;
    } else if (state) {
      // Groups that differ from the platform's only in how their ids are written are the same groups: the agent's JSON stays.
      if (groupsKey(candidate.profile_groups) === groupsKey(state.groups)) {
        kept.push(candidate);
      } else {
        changed = true;
        kept.push({ ...candidate, profile_groups: state.groups });
      }
    } else {
      kept.push(candidate);
    }
  }
  if (!changed) return { kind: 'deliver', event, changed: false };
  // A spread keeps the agent's key order, `candidates` in its place.
  const checked = { ...event, candidates: kept } as AgentEvent;
  if (kept.length === 0 && event.type === 'identification') {
    return { kind: 'lost', event: checked, deletedProfileIds: deleted };
  }
  return { kind: 'deliver', event: checked, changed: true };
}

function groupsKey(groups: ReadonlyArray<{ id: string }> | null | undefined): string {
  return JSON.stringify((groups ?? []).map((group) => ({ ...group, id: idKey(group.id) })));
}
