/**
 * The two ways a decision says no. Each names the field it is about (an OperationOutcome
 * `expression`, a problem+json pointer), so the edge can tell the person exactly what to fix.
 */

/** A clinical or record-keeping rule forbids the command as it stands; nothing is recorded. */
export class DomainRuleBroken extends Error {
  override readonly name = 'DomainRuleBroken';
  constructor(
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A correction made against a version of the entry that is no longer current (FHIR If-Match,
 * checked on the stream): the person must read the entry again and reapply their change.
 */
export class StaleEntryVersion extends DomainRuleBroken {
  constructor(
    /** What was changed, in words: "entry <id>", "Patient <id>". */
    readonly subject: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super('correction.stale-version', 'expectedVersion', `${subject} is at version ${currentVersion}, not ${expectedVersion}: read it again and reapply the change`);
  }
}

/**
 * The command looks like a likely mistake (a dose recorded twice): ask the person to confirm.
 * Sent again with the confirmation, it is recorded (and flagged when the rule says so).
 */
export class NeedsConfirmation extends Error {
  override readonly name: string = 'NeedsConfirmation';
  constructor(
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A confirmation that first stops the person: what they are about to do may harm (a dose the
 * record holds an allergy to). The edge answers 422, not 409: it is not a likely slip to confirm
 * in passing but a rule to stop at; confirmed (it has been given), it is recorded, flagged and escalated.
 */
export class StopAndConfirm extends NeedsConfirmation {
  override readonly name = 'StopAndConfirm';
}

export type DecisionError = DomainRuleBroken | NeedsConfirmation;

export const isDecisionError = (error: unknown): error is DecisionError =>
  error instanceof DomainRuleBroken || error instanceof NeedsConfirmation;
