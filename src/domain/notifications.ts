/** Who a notification is for: an organisation's subscribed channels, the holder, or a mailbox. */
export type Audience =
  | { type: 'org'; ods: string }
  | { type: 'holder'; address: string }
  /** A team's mailbox (the NAS GP-locum team's locumadmin@nhs.net); `ods` is the organisation it serves. */
  | { type: 'mailbox'; address: string; ods?: string }
  /** The operators' channel (OPERATORS_CHANNEL), for notifications parked as failed. */
  | { type: 'operators' };

export interface Notification {
  kind: string;
  audience: Audience;
  payload: Record<string, unknown>;
}
