import { describe, expect, it } from '@jest/globals';
import { effectiveState, EndpointState } from './endpoint-state.js';

describe("effectiveState: the api's pause by hand and the dispatcher's health, each from its own record", () => {
  it('keeps a pause by hand whatever the health says (a probe that succeeds does not undo it)', () => {
    expect(effectiveState(EndpointState.PAUSED_BY_HAND, 0, { state: EndpointState.ACTIVE, resumeGeneration: 0 })).toBe('PAUSED_BY_HAND');
  });

  it("shows the dispatcher's health of the current generation", () => {
    expect(effectiveState(EndpointState.ACTIVE, 2, { state: EndpointState.DISABLED_GONE, resumeGeneration: 2 })).toBe('DISABLED_GONE');
    expect(effectiveState(EndpointState.ACTIVE, 0, { state: EndpointState.PAUSED_BY_FAILURES, resumeGeneration: 0 })).toBe('PAUSED_BY_FAILURES');
  });

  it('sets health from before a resume by hand aside, and is active without any health', () => {
    expect(effectiveState(EndpointState.ACTIVE, 3, { state: EndpointState.DISABLED_GONE, resumeGeneration: 2 })).toBe('ACTIVE');
    expect(effectiveState(EndpointState.ACTIVE, 0, undefined)).toBe('ACTIVE');
  });
});
