import { randomUUID } from 'node:crypto';

/** A sample identification event in the seed's format, for `sendTestEvent`. */
export function sampleEvent(eventId: string): Record<string, unknown> {
  const agentId = randomUUID();
  return {
    type: 'identification',
    activity_id: randomUUID(),
    camera: { id: randomUUID(), type: 'IP', title: 'test camera', stream: 'rtsp://test.invalid/stream', real_name: null, agent_id: agentId },
    candidates: [
      {
        profile: { id: randomUUID(), age: 30, gender: 'MALE', avatar_id: null, main_sample_id: null, sample_link: null },
        profile_groups: [{ id: randomUUID(), color: 'orange.400' }],
        confidence: 0.93,
      },
    ],
    event: {
      id: eventId,
      detection_date: new Date().toISOString().replace('T', ' ').replace('Z', '000+00:00'),
      image: null,
      original_image: null,
      image_link: null,
      original_image_link: null,
    },
  };
}
