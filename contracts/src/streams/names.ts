// ---------------------------------------------------------------------------------------------
// Every stream name Tandem uses, built and parsed in one place (issue 12, item 2). Before this, the
// names were built by template strings in two services and taken apart by `slice` in about ten
// places; `competency-<careWorkerId>-<frameworkId>` could not be split, since both ids may hold
// hyphens, so one reader tried every hyphen.
//
// The rule, for every name: `<kind>-<rest>`, where no kind holds a hyphen, so the kind is what comes
// before the first hyphen. The rest is one id, except:
// - `audit-<yyyy-mm-dd>`: one stream per UTC day of the access trail;
// - `competency-<careWorkerId>_<frameworkId>`: neither id may hold `_` (ids are letters, digits, `-`
//   and `.`; framework ids lower-case letters, digits and `-`), so the `_` splits them;
// - except the legacy form `competency-<careWorkerId>-<frameworkId>`, kept for the frameworks
//   Tandem shipped before the `_` form (LEGACY_COMPETENCY_FRAMEWORK_IDS): existing data directories
//   hold those streams and a stream is never renamed, so those frameworks keep the legacy form for
//   new care workers too (one name per pair, whatever the data directory's age). It splits
//   unambiguously because that list is closed and no id in it ends with `-` and another id in it
//   (a test holds the list to that), so at most one of them ends the name. A framework added from
//   now on gets the `_` form.
// ---------------------------------------------------------------------------------------------

/** A stream name taken apart: what the stream is and whose. */
export type StreamName =
  /** Identity and registration of one person. */
  | { readonly kind: 'patient'; readonly patientId: string }
  /** Everything observed and done for one person: one consistency boundary. */
  | { readonly kind: 'care'; readonly patientId: string }
  /** What is prescribed for one person, and what they must not be given: medication orders, allergies, conditions. */
  | { readonly kind: 'medicines'; readonly patientId: string }
  | { readonly kind: 'practitioner'; readonly practitionerId: string }
  | { readonly kind: 'organisation'; readonly organisationId: string }
  /** One care worker's competence in one framework (training to sign-off, lapse, suspension). */
  | { readonly kind: 'competency'; readonly careWorkerId: string; readonly frameworkId: string }
  | { readonly kind: 'delegation'; readonly delegationId: string }
  | { readonly kind: 'escalation'; readonly escalationId: string }
  | { readonly kind: 'prompt'; readonly promptId: string }
  /** An organisation's on-call rota (who the on-call tier of an escalation reaches). */
  | { readonly kind: 'oncall'; readonly organisationId: string }
  /** One FHIR Subscription, its notifications numbered. */
  | { readonly kind: 'subscription'; readonly subscriptionId: string }
  /** The access trail of one UTC day (`yyyy-mm-dd`). */
  | { readonly kind: 'audit'; readonly day: string }
  /** One planned visit to a person, from planning to check-out (issue 13). */
  | { readonly kind: 'visit'; readonly visitId: string };

export type StreamKind = StreamName['kind'];

/** Splits the two ids of a competency stream: in no care worker's or framework's id. */
export const COMPETENCY_SEPARATOR = '_';

/**
 * The frameworks whose competency streams keep the legacy `competency-<careWorkerId>-<frameworkId>`
 * form: the ones Tandem shipped before the `_` form. Closed: never add to it (a new framework gets
 * the `_` form), or a name already stored could split two ways.
 */
export const LEGACY_COMPETENCY_FRAMEWORK_IDS: readonly string[] = Object.freeze(['insulin-administration', 'suspected-uti-65-plus', 'cellulitis-eron-1']);

const LEGACY = new Set(LEGACY_COMPETENCY_FRAMEWORK_IDS);
/** What a stream name may hold (the event store's own rule, `streamNameProblem`). */
const NAME_PART = /^[A-Za-z0-9._:@-]+$/;
const FRAMEWORK_ID = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const competency = (careWorkerId: string, frameworkId: string): string => {
  // The ids come validated (IdSchema, FrameworkIdSchema); this is the last line against a name that would split wrong.
  if (!careWorkerId || careWorkerId.includes(COMPETENCY_SEPARATOR)) throw new Error(`A competency stream needs a care worker id without "${COMPETENCY_SEPARATOR}" (got "${careWorkerId}")`);
  if (!FRAMEWORK_ID.test(frameworkId)) throw new Error(`A competency stream needs a framework id of lower-case letters, digits and hyphens (got "${frameworkId}")`);
  return LEGACY.has(frameworkId) ? `competency-${careWorkerId}-${frameworkId}` : `competency-${careWorkerId}${COMPETENCY_SEPARATOR}${frameworkId}`;
};

const patient = (patientId: string): string => `patient-${patientId}`;
const care = (patientId: string): string => `care-${patientId}`;
const medicines = (patientId: string): string => `medicines-${patientId}`;
const practitioner = (practitionerId: string): string => `practitioner-${practitionerId}`;
const organisation = (organisationId: string): string => `organisation-${organisationId}`;
const delegation = (delegationId: string): string => `delegation-${delegationId}`;
const escalation = (escalationId: string): string => `escalation-${escalationId}`;
const prompt = (promptId: string): string => `prompt-${promptId}`;
const onCallRota = (organisationId: string): string => `oncall-${organisationId}`;
const subscription = (subscriptionId: string): string => `subscription-${subscriptionId}`;
const visit = (visitId: string): string => `visit-${visitId}`;
/** The access trail's stream for the UTC day of `at`. */
const auditDay = (at: Date): string => `audit-${at.toISOString().slice(0, 10)}`;

/** The name of a parsed stream name: `streamName.of(parseStreamName(s)!) === s` for every name Tandem builds. */
const of = (name: StreamName): string => {
  switch (name.kind) {
    case 'patient':
      return patient(name.patientId);
    case 'care':
      return care(name.patientId);
    case 'medicines':
      return medicines(name.patientId);
    case 'practitioner':
      return practitioner(name.practitionerId);
    case 'organisation':
      return organisation(name.organisationId);
    case 'competency':
      return competency(name.careWorkerId, name.frameworkId);
    case 'delegation':
      return delegation(name.delegationId);
    case 'escalation':
      return escalation(name.escalationId);
    case 'prompt':
      return prompt(name.promptId);
    case 'oncall':
      return onCallRota(name.organisationId);
    case 'subscription':
      return subscription(name.subscriptionId);
    case 'audit':
      return `audit-${name.day}`;
    case 'visit':
      return visit(name.visitId);
  }
};

/** The name of each stream, from the ids that name it. */
export const streamName = { patient, care, medicines, practitioner, organisation, competency, delegation, escalation, prompt, onCallRota, subscription, auditDay, visit, of } as const;

const parseCompetency = (rest: string): StreamName | undefined => {
  const at = rest.indexOf(COMPETENCY_SEPARATOR);
  if (at !== -1) {
    const careWorkerId = rest.slice(0, at);
    const frameworkId = rest.slice(at + 1);
    // A legacy framework never takes the `_` form, so such a name is not one Tandem builds.
    return careWorkerId && FRAMEWORK_ID.test(frameworkId) && !LEGACY.has(frameworkId) ? { kind: 'competency', careWorkerId, frameworkId } : undefined;
  }
  // At most one legacy id ends the name (no id in the list ends with `-` and another).
  const frameworkId = LEGACY_COMPETENCY_FRAMEWORK_IDS.find((id) => rest.length > id.length + 1 && rest.endsWith(`-${id}`));
  return frameworkId ? { kind: 'competency', careWorkerId: rest.slice(0, rest.length - frameworkId.length - 1), frameworkId } : undefined;
};

/** What a stream name names, or undefined when it is not a name Tandem builds. */
export const parseStreamName = (name: string): StreamName | undefined => {
  const hyphen = name.indexOf('-');
  if (hyphen <= 0) return undefined;
  const rest = name.slice(hyphen + 1);
  if (!NAME_PART.test(rest)) return undefined;
  switch (name.slice(0, hyphen)) {
    case 'patient':
      return { kind: 'patient', patientId: rest };
    case 'care':
      return { kind: 'care', patientId: rest };
    case 'medicines':
      return { kind: 'medicines', patientId: rest };
    case 'practitioner':
      return { kind: 'practitioner', practitionerId: rest };
    case 'organisation':
      return { kind: 'organisation', organisationId: rest };
    case 'competency':
      return parseCompetency(rest);
    case 'delegation':
      return { kind: 'delegation', delegationId: rest };
    case 'escalation':
      return { kind: 'escalation', escalationId: rest };
    case 'prompt':
      return { kind: 'prompt', promptId: rest };
    case 'oncall':
      return { kind: 'oncall', organisationId: rest };
    case 'subscription':
      return { kind: 'subscription', subscriptionId: rest };
    case 'audit':
      return DAY.test(rest) ? { kind: 'audit', day: rest } : undefined;
    case 'visit':
      return { kind: 'visit', visitId: rest };
    default:
      return undefined;
  }
};

/** The parsed name when it is of that kind: `streamOfKind(event.stream, 'care')?.patientId`. */
export const streamOfKind = <K extends StreamKind>(name: string, kind: K): Extract<StreamName, { kind: K }> | undefined => {
  const parsed = parseStreamName(name);
  return parsed?.kind === kind ? (parsed as Extract<StreamName, { kind: K }>) : undefined;
};
