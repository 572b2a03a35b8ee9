import type { Refusal } from '../machines/decider';

/**
 * A command the machine refused: nothing is stored. 409 when the stream's state does not allow it
 * (already acknowledged, not yet accepted), 403 when the actor has no authority over the stream
 * (a nurse of another team; codes ending `.not-authorised`), 422 when a rule forbids it as it
 * stands (no consent, not a registered professional, competence not current).
 */
export class DelegationCommandRefused extends Error {
  override readonly name = 'DelegationCommandRefused';
  readonly status: 403 | 409 | 422;
  constructor(readonly refusal: Refusal) {
    super(refusal.reason);
    this.status = /\.not-authorised$/.test(refusal.code)
      ? 403
      : /\.(not-allowed-in-state|not-allowed|not-yet-due|already-[a-z-]+|module-already-completed)$/.test(refusal.code)
        ? 409
        : 422;
  }
}

/** The command names a stream that does not exist (no such delegation, escalation, prompt or framework). */
export class DelegationNotFound extends Error {
  override readonly name = 'DelegationNotFound';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
