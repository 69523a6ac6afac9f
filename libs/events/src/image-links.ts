import type { AgentEvent } from './event.schema.js';

/** Path under the public origin at which the api serves an event image. */
export const IMAGE_PATH = '/event-service/get-image';

export function imageLink(publicBaseUrl: string, imageId: string): string {
  return `${publicBaseUrl}${IMAGE_PATH}/${encodeURIComponent(imageId)}`;
}

/**
 * Fills `image_link` / `original_image_link` that the agent did not send
 * (absent or null) from the image ids; links the agent sent are kept as they are.
 * Returns true when the event was changed.
 */
export function fillImageLinks(event: AgentEvent, publicBaseUrl: string): boolean {
  const details = event.event;
  let changed = false;
  if (details.image_link == null && details.image != null) {
    details.image_link = imageLink(publicBaseUrl, details.image);
    changed = true;
  }
  if (details.original_image_link == null && details.original_image != null) {
    details.original_image_link = imageLink(publicBaseUrl, details.original_image);
    changed = true;
  }
  return changed;
}
