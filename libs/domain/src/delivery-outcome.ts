/** How one attempt ended, for the delivery log. */
export const DeliveryOutcome = {
  SUCCEEDED: 'SUCCEEDED',
  /** Another attempt is scheduled. */
  RETRYING: 'RETRYING',
  /** No more attempts (kept for resendDelivery). */
  FAILED: 'FAILED',
} as const;
export type DeliveryOutcome = (typeof DeliveryOutcome)[keyof typeof DeliveryOutcome];
