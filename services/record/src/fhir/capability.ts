import { FHIR_ACCESS, isDirectoryType, POLICY } from '@tandem/auth';
import { includesOf, modifiersOf, revIncludesOf, SEARCH_PARAMS, sortKeysOf } from '@tandem/fhir-read-model';
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceInteraction, CapabilityStatementRestResourceOperation, CapabilityStatementRestSecurity } from 'fhir/r4';
import { FHIR_FORMATS } from './formats';
import type { ServedRoutes, TypeInteraction } from './route-table';

/** SMART App Launch's extension on rest.security: where a client authorises and redeems its code. */
export const OAUTH_URIS_EXTENSION = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

/** What an interaction does here beyond the specification's meaning, or who it is refused to. */
const interactionDocumentation = (type: string, code: TypeInteraction): string | undefined => {
  if (code === 'history-type' && !isDirectoryType(type)) {
    // The history of a whole type spans people: only a reach over everyone may have it (routes.ts).
    const action = FHIR_ACCESS.typeHistory(type).action;
    const roles = Object.entries(POLICY).flatMap(([role, reach]) => (reach[action] === 'any' ? [role] : []));
    return `Spans every person: only for a token that may read every ${type} (the role${roles.length === 1 ? '' : 's'} ${roles.join(', ')}, or a system/ scope); anyone else gets 403 and asks for one resource's _history, or searches by patient.`;
  }
  if (code === 'create') {
    return 'The same request (the same body, or the same Idempotency-Key) is recorded once: sent again, it answers 200 with what it first recorded. No conditional create: If-None-Exist is refused (400).';
  }
  if (code === 'update') return 'Only to a resource that exists (no update-as-create); PUT /fhir/<type> (conditional update) is 405.';
  return undefined;
};

/** Observation and MedicationAdministration updates are corrections (writes.ts correctionReason). */
const CORRECTION = (type: string) =>
  `Updated (If-Match required) as a correction of what was recorded: the update must add a note saying why (422 naming ${type}.note without one); the corrected version is a new version, the one it replaces stays in _history.`;

const TYPE_DOCUMENTATION: Readonly<Record<string, string>> = {
  Observation: CORRECTION('Observation'),
  MedicationAdministration: CORRECTION('MedicationAdministration'),
  AuditEvent:
    'The access trail: every read, search, write and refused attempt (who, role, what, which person, when, from where, outcome, purpose of use). Readable by auditors only; not part of Patient/$everything.',
  Provenance: 'One per write: the versions it created, its author (and enterer), when it happened and when it was recorded, and the event in the log. Not part of Patient/$everything; search it by patient or target.',
  MedicationRequest:
    'Created and updated through the same commands as the JSON API (PrescribeMedication; an update is ChangeMedicationOrder, or StopMedicationOrder when its status is stopped, completed, cancelled or entered-in-error, with statusReason). The product is one dm+d coding; one dosageInstruction with one doseQuantity in a unit written in full ("units", never U or IU), scheduled times in timing.repeat.timeOfDay, or a PRN as asNeededCodeableConcept with timing.repeat frequency 1 per period (the minimum interval) and maxDosePerPeriod over 24 h; start and stop in timing.repeat.boundsPeriod. The requester is the prescriber: whoever sends it. An update needs If-Match; the reason for a change is the note it adds; the order sent back as read changes nothing.',
  AllergyIntolerance:
    'Created (RecordAllergy) as active and confirmed, one dm+d or SNOMED CT coding; it stops a dose of a product it matches exactly as one entered in the app. Updated (If-Match required) through ChangeAllergy: reaction, criticality, category, clinicalStatus (active, inactive, resolved) and verificationStatus (confirmed, unconfirmed, refuted), the reason the note the update adds; verificationStatus entered-in-error (without clinicalStatus) is MarkAllergyEnteredInError. Refuted, inactive, resolved or entered in error, it no longer stops a dose; unconfirmed, it still does. Sent back as read, nothing changes.',
  Condition:
    'Created (RecordCondition) on the problem list, confirmed, one SNOMED CT coding. Updated (If-Match required) through ChangeCondition: clinicalStatus, onsetDateTime and abatementDateTime (the day it ended: inactive, remission or resolved), the reason the note the update adds (its own note stays as recorded); verificationStatus entered-in-error (without clinicalStatus) is MarkConditionEnteredInError. Sent back as read, nothing changes.',
  Encounter:
    'A visit as it happened (Encounter/<visitId>). Created by the assigned care worker’s visit-monitoring app as the check-in (CheckInVisit): status in-progress, appointment Appointment/<visitId>, subject, participant the care worker sending it, period.start the arrival, location where the phone gives one. Updated with status finished and period.end as the check-out (CheckOutVisit): each planned task’s outcome in the visit-task-outcome extension; a scheduled medicine due in the visit with no outcome refuses it (422) unless the visit-unrecorded-doses-reason extension says why. Sent back as read, nothing changes.',
  Patient: 'Patient/$everything returns the person’s record; with _at=<dateTime> the record as it was known then; _type=<types> narrows it to those resource types.',
};


const securityOf = (smart: { authorize: string; token: string } | undefined): CapabilityStatementRestSecurity => ({
  cors: false,
  ...(smart
    ? {
        extension: [{ url: OAUTH_URIS_EXTENSION, extension: [{ url: 'authorize', valueUri: smart.authorize }, { url: 'token', valueUri: smart.token }] }],
        service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }], text: 'SMART App Launch 2: discovery at .well-known/smart-configuration' }],
      }
    : {}),
  description: SECURITY_DESCRIPTION,
});

const SECURITY_DESCRIPTION =
  'Every interaction but this CapabilityStatement needs a bearer JWT (Authorization: Bearer). SMART on FHIR v2 scopes (patient/, user/, system/) are honoured on top of the role and care-relationship rules; a denial is 403 with an OperationOutcome. Outside a relationship, a resource not recorded is refused (403) exactly like one that is recorded but not yours. Each resource _include would add is checked as a direct read of it; what the token may not read is left out and an OperationOutcome entry (search mode "outcome") says how many. POSTing a Patient whose NHS number is already registered answers with that person only to those who may read them. A district nurse or GP may read outside their relationship by giving a reason in X-Tandem-Break-Glass; the read is flagged and reported.';

/**
 * States exactly what this server supports, generated from the tables the code runs on: the
 * interactions and operations the router registered (route-table.ts), the search parameters the
 * search engine reads (@tandem/fhir-read-model), the writable types and which of them need
 * If-Match, and the SMART endpoints discovery names. apps/tandem/test/fhir-capability.test.ts
 * makes the request each claim means against the running server.
 */
export const capabilityStatement = ({
  baseUrl,
  version,
  served,
  writableTypes,
  ifMatchRequired = [],
  bundles = false,
  moreResources = [],
  moreOperations = [],
  smart,
}: {
  baseUrl: string;
  version: string;
  /** The interactions and operations the router registered. */
  served: ServedRoutes;
  writableTypes: readonly string[];
  /** Writable types whose update must carry If-Match: `versioned-update`. */
  ifMatchRequired?: readonly string[];
  /** The server takes transaction and batch Bundles at POST /fhir (declared only when it does: the record service's writes handle them). */
  bundles?: boolean;
  /**
   * Resources served under /fhir by other services of this process (Subscription): declared only where they are mounted.
   * One of a type already declared adds its operations to it (Patient/$export beside Patient/$everything).
   */
  moreResources?: readonly CapabilityStatementRestResource[];
  /** System-level operations other services of this process serve (Bulk Data `$export`). */
  moreOperations?: readonly CapabilityStatementRestResourceOperation[];
  /** The SMART configuration's endpoints: SMART-on-FHIR is declared only where discovery names them. */
  smart?: { authorize: string; token: string };
}): CapabilityStatement => ({
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-12-03',
  publisher: 'Tandem',
  kind: 'instance',
  software: { name: 'Tandem', version },
  implementation: { description: 'Tandem integrated health and care record', url: baseUrl },
  fhirVersion: '4.0.1',
  format: [...FHIR_FORMATS],
  rest: [
    {
      mode: 'server',
      documentation:
        'Reads come from projections of the event log. Send X-Tandem-Min-Position with the position a write returned to read your own writes. Search results are paged by an opaque _cursor (keyset on the sort and the id): follow the next link, which carries every parameter as sent; a write between pages neither repeats nor moves an entry already there. _count=0 answers the total only.',
      security: securityOf(smart),
      ...(bundles
        ? {
            interaction: [
              {
                code: 'transaction' as const,
                documentation:
                  'POST /fhir with a transaction Bundle: all or nothing. It records one entry of the care record: a vital signs panel (LOINC 85353-1) with the member Observations its hasMember names by their urn:uuid fullUrl (one entry, one NEWS2 scored on every member), or one resource. If any entry is wrong nothing is stored and the OperationOutcome names it (Bundle.entry[i].resource...). The answer is a transaction-response with each entry’s location, etag and status. An Idempotency-Key names the whole transaction.',
              },
              {
                code: 'batch' as const,
                documentation:
                  'POST /fhir with a batch Bundle: each entry (POST or PUT of a writable type; a vital signs panel with its members counts as one) is recorded or refused on its own; a refusal is that entry’s response.outcome. An Idempotency-Key is applied to each entry as <key>:entry[i].',
              },
            ],
          }
        : {}),
      ...(moreOperations.length > 0 ? { operation: [...moreOperations] } : {}),
      resource: Object.entries(SEARCH_PARAMS).map(([type, params]): CapabilityStatementRestResource => {
        const writable = writableTypes.includes(type);
        const moreOfType = moreResources.filter((r) => r.type === type).flatMap((r) => r.operation ?? []);
        const operations = [
          ...served.operations.filter((route) => route.types === undefined || route.types.includes(type)).map(({ name, definition }) => ({ name, definition })),
          ...moreOfType,
        ];
        const interactions = served.interactions.filter((route) => !route.writesOnly || writable);
        return {
          type,
          ...(TYPE_DOCUMENTATION[type] ? { documentation: TYPE_DOCUMENTATION[type] } : {}),
          // Every change is a new version; where an update must name the version it changes, versioned-update.
          versioning: writable && ifMatchRequired.includes(type) ? 'versioned-update' : 'versioned',
          readHistory: interactions.some((route) => route.interaction === 'vread'),
          updateCreate: false,
          conditionalCreate: false,
          conditionalRead: 'not-match',
          conditionalUpdate: false,
          conditionalDelete: 'not-supported',
          interaction: interactions.map((route): CapabilityStatementRestResourceInteraction => {
            const documentation = interactionDocumentation(type, route.interaction);
            return { code: route.interaction, ...(documentation ? { documentation } : {}) };
          }),
          // The modifiers and sorts each parameter answers are said in its documentation (R4 has no element for them).
          searchParam: Object.entries(params).map(([name, def]) => {
            const modifiers = modifiersOf(def).map((m) => `:${m}`);
            return { name, type: def.type, documentation: `${def.documentation}${modifiers.length > 0 ? `. Modifiers: ${modifiers.join(', ')}` : ''}${sortKeysOf(type).has(name) ? `. Sortable (_sort=${name} or -${name})` : ''}` };
          }),
          ...(Object.keys(includesOf(type)).length > 0 ? { searchInclude: Object.keys(includesOf(type)) } : {}),
          ...(revIncludesOf(type).length > 0 ? { searchRevInclude: revIncludesOf(type) } : {}),
          operation: operations,
        };
      }).concat(moreResources.filter((r) => !(r.type in SEARCH_PARAMS))),
    },
  ],
});

