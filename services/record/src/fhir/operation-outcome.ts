import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueCode = OperationOutcomeIssue['code'];

export interface OutcomeIssue {
  readonly code: IssueCode;
  readonly diagnostics: string;
  /** FHIRPath of the element at fault, e.g. `Observation.valueQuantity.value`. */
  readonly expression?: string;
  readonly severity?: OperationOutcomeIssue['severity'];
}

export const operationOutcome = (issues: readonly OutcomeIssue[]): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: issues.map((i) => ({
    severity: i.severity ?? 'error',
    code: i.code,
    diagnostics: i.diagnostics,
    ...(i.expression ? { expression: [i.expression] } : {}),
  })),
});

/** An error the FHIR routes turn into an HTTP status and an OperationOutcome. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: readonly OutcomeIssue[],
    /** For a 403: the policy's reason (`relationship`, `scope`, ...). */
    readonly reason?: string,
  ) {
    super(issues.map((i) => i.diagnostics).join('; '));
    this.name = 'FhirError';
  }

  static notFound(type: string, id: string): FhirError {
    return new FhirError(404, [{ code: 'not-found', diagnostics: `${type}/${id} is not known` }]);
  }
}
