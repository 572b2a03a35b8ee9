/**
 * What the live stream (GET /api/events/stream) tells an open app about one event in the log. A
 * message says only that something about a person changed and where in the log: the app then reads
 * the item through the ordinary API (which decides and records that read as well), with
 * X-Tandem-Min-Position so the read includes what the message told of. Escalations and care prompts
 * are the only kinds: what is addressed to a clinician or a care worker. One definition for the
 * server that sends it and the app that reads it.
 */
export interface LiveMessage {
  readonly kind: 'escalation' | 'prompt';
  /** The event type (EscalationRaised, EscalationSentToTier, ..., CarePromptIssued, ...). */
  readonly type: string;
  readonly id: string;
  readonly patientId: string;
  /** The log position of the event: the app's min-position for the read that follows. */
  readonly position: number;
  /** Who it was sent to at this tier, or who is prompted: lets the app say "for you" at once. */
  readonly addressedTo?: readonly string[];
}
