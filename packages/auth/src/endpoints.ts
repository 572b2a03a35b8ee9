import type { Action, ScopeNeed } from './policy';
import type { Interaction } from './scopes';

/**
 * Every endpoint as the policy sees it: the action it is, and the SMART scopes it needs. The HTTP
 * layers look their endpoint up here, so the test table in test/policy.test.ts covers exactly what
 * the routes enforce. What the endpoint concerns (one person, a search across people, an
 * organisation, nothing in particular) is its target; the route supplies it from the path or the
 * stored resource, never from a request body's say-so.
 */
export interface EndpointAccess {
  readonly action: Action;
  readonly needs: readonly ScopeNeed[];
}

const need = (types: string | readonly string[], interaction: Interaction): ScopeNeed => ({ types: typeof types === 'string' ? [types] : types, interaction });

/** FHIR resource types about one person (their compartment) and directory types about no one. */
export const PATIENT_COMPARTMENT_TYPES = ['Patient', 'Observation', 'MedicationAdministration', 'MedicationRequest', 'AllergyIntolerance', 'Condition', 'CareTeam', 'Task', 'CarePlan', 'Communication', 'Flag', 'Appointment', 'Encounter', 'Goal'] as const;
export const DIRECTORY_TYPES = ['Practitioner', 'PractitionerRole', 'Organization'] as const;

/** Types not listed are treated as about a person: the safe default for a type added later. */
export const isDirectoryType = (type: string): boolean => (DIRECTORY_TYPES as readonly string[]).includes(type);

const observation = { action: 'care.record', needs: [need('Observation', 'c')] } as const;
const medicine = { action: 'care.record', needs: [need('MedicationAdministration', 'c')] } as const;
const prescribing = (interaction: Interaction) => ({ action: 'medicine.prescribe', needs: [need('MedicationRequest', interaction)] }) as const;
const correction = { action: 'care.record', needs: [need(['Observation', 'MedicationAdministration'], 'u')] } as const;
/** A visit is planned by the provider (Appointment) and attended by the care worker (Encounter). */
const planning = { action: 'visit.plan', needs: [need('Appointment', 'u')] } as const;
const attending = { action: 'care.record', needs: [need('Encounter', 'u')] } as const;

/** The JSON command API, by operation id (services/record COMMAND_ROUTES). */
export const COMMAND_ACCESS = {
  RegisterPatient: { action: 'patient.register', needs: [need('Patient', 'c')] },
  UpdatePatientDetails: { action: 'patient.details', needs: [need('Patient', 'u')] },
  SetPatientBaseline: { action: 'patient.baseline', needs: [need('Patient', 'u')] },
  AddCareTeamMember: { action: 'patient.care-team', needs: [need('CareTeam', 'u')] },
  RemoveCareTeamMember: { action: 'patient.care-team', needs: [need('CareTeam', 'u')] },
  RegisterPractitioner: { action: 'practitioner.register', needs: [need('Practitioner', 'c')] },
  RegisterOrganisation: { action: 'organisation.register', needs: [need('Organization', 'c')] },
  // A care worker's contracted hours and absences (capacity, issue 15): the manager of her organisation, as registering her.
  SetContractedHours: { action: 'practitioner.register', needs: [need('Practitioner', 'u')] },
  RecordStaffAbsence: { action: 'practitioner.register', needs: [need('Practitioner', 'u')] },
  RecordVitalSigns: observation,
  RecordBloodGlucose: observation,
  RecordSoftSigns: observation,
  ScreenUrinarySymptoms: observation,
  RecordFluidIntake: observation,
  CheckCellulitis: observation,
  WriteNote: observation,
  RecordInsulinAdministered: medicine,
  RecordInsulinWithheld: medicine,
  RecordMedicineDose: medicine,
  RecordPrnEffect: medicine,
  PrescribeMedication: prescribing('c'),
  ChangeMedicationOrder: prescribing('u'),
  StopMedicationOrder: prescribing('u'),
  RecordAllergy: { action: 'medicine.prescribe', needs: [need('AllergyIntolerance', 'c')] },
  RecordCondition: { action: 'medicine.prescribe', needs: [need('Condition', 'c')] },
  ChangeAllergy: { action: 'medicine.prescribe', needs: [need('AllergyIntolerance', 'u')] },
  MarkAllergyEnteredInError: { action: 'medicine.prescribe', needs: [need('AllergyIntolerance', 'u')] },
  ChangeCondition: { action: 'medicine.prescribe', needs: [need('Condition', 'u')] },
  MarkConditionEnteredInError: { action: 'medicine.prescribe', needs: [need('Condition', 'u')] },
  AmendEntry: correction,
  MarkEntryEnteredInError: correction,
  // A person's goals are agreed and followed by those who record their care (issue 15).
  AgreeGoal: { action: 'care.record', needs: [need('Goal', 'c')] },
  RecordGoalProgress: { action: 'care.record', needs: [need('Goal', 'u')] },
  CloseGoal: { action: 'care.record', needs: [need('Goal', 'u')] },
  PlanVisit: { action: 'visit.plan', needs: [need('Appointment', 'c')] },
  RescheduleVisit: planning,
  CancelVisit: planning,
  ImportVisits: { action: 'visit.plan', needs: [need('Appointment', 'c')] },
  CheckInVisit: { action: 'care.record', needs: [need('Encounter', 'c')] },
  CheckOutVisit: attending,
} as const satisfies Record<string, EndpointAccess>;
export type CommandOperationId = keyof typeof COMMAND_ACCESS;

/** What a FHIR create or update is: the command it becomes. */
const FHIR_WRITE_ACTIONS: Readonly<Record<string, { create: Action; update: Action }>> = {
  Patient: { create: 'patient.register', update: 'patient.details' },
  Observation: { create: 'care.record', update: 'care.record' },
  MedicationAdministration: { create: 'care.record', update: 'care.record' },
  MedicationRequest: { create: 'medicine.prescribe', update: 'medicine.prescribe' },
  AllergyIntolerance: { create: 'medicine.prescribe', update: 'medicine.prescribe' },
  Condition: { create: 'medicine.prescribe', update: 'medicine.prescribe' },
  Appointment: { create: 'visit.plan', update: 'visit.plan' },
  /** The visit's check-in and check-out: the care worker's. */
  Encounter: { create: 'care.record', update: 'care.record' },
};

/** Own keys only: a path's `constructor` names no resource type. */
const writeActions = (type: string) => (Object.hasOwn(FHIR_WRITE_ACTIONS, type) ? FHIR_WRITE_ACTIONS[type] : undefined);

/** The FHIR REST API. `/fhir/metadata` is public and not listed. */
/** The access trail is read under its own action: only those who audit may read who read what. */
const readAction = (type: string): Action => (type === 'AuditEvent' ? 'audit.read' : 'fhir.read');

export const FHIR_ACCESS = {
  /** read, vread and a resource's _history. */
  read: (type: string): EndpointAccess => ({ action: readAction(type), needs: [need(type, 'r')] }),
  /** Type-level _history: across people, so only for those who may read everyone. */
  typeHistory: (type: string): EndpointAccess => ({ action: readAction(type), needs: [need(type, 'r')] }),
  search: (type: string): EndpointAccess => ({ action: readAction(type), needs: [need(type, 's')] }),
  /** Patient/$everything returns every type in the person's compartment. */
  everything: (): EndpointAccess => ({ action: 'fhir.read', needs: PATIENT_COMPARTMENT_TYPES.map((t) => need(t, 'r')) }),
  create: (type: string): EndpointAccess => ({ action: writeActions(type)?.create ?? 'care.record', needs: [need(type, 'c')] }),
  update: (type: string): EndpointAccess => ({ action: writeActions(type)?.update ?? 'care.record', needs: [need(type, 'u')] }),
};

export const ADMIN_ACCESS = {
  rebuild: { action: 'admin.rebuild', needs: [] } as EndpointAccess,
};

/** The auditors' API (apps/tandem audit routes): verify the log, replay a stream as known at a time. */
export const AUDIT_ACCESS = {
  verify: { action: 'audit.read', needs: [] } as EndpointAccess,
  replay: { action: 'audit.read', needs: [] } as EndpointAccess,
};

const competence = { action: 'delegation.manage', needs: [need('Practitioner', 'u')] } as const;
const delegating = { action: 'delegation.manage', needs: [need('Task', 'u')] } as const;
const answering = { action: 'delegation.respond', needs: [need('Task', 'u')] } as const;
const escalation = { action: 'escalation.respond', needs: [need('Communication', 'u')] } as const;
const delegationRead = { action: 'fhir.read', needs: [need('Task', 'r')] } as const;

/**
 * The delegation service's JSON API (services/delegation DELEGATION_ROUTES), by operation id. The
 * policy decides the role and the relationship with the person (a competence concerns no one);
 * the machines decide the rest (only the named care worker accepts, only a registered nurse signs off).
 */
export const DELEGATION_ACCESS = {
  StartTraining: competence,
  CompleteTrainingModule: competence,
  RecordSupervisedPractice: competence,
  SignOffCompetence: competence,
  RecordAssessmentNotPassed: competence,
  /** Also the employer's registered manager, for safeguarding (the competency stream decides who: docs/decisions/0012). */
  SuspendCompetence: { action: 'competence.suspend', needs: [need('Practitioner', 'u')] },
  RevokeCompetence: competence,
  ReinstateCompetence: competence,
  ProposeDelegation: { action: 'delegation.manage', needs: [need('Task', 'c')] },
  RecordPersonAgreement: delegating,
  ActivateDelegation: delegating,
  ReviewDelegation: delegating,
  SuspendDelegation: delegating,
  EndDelegation: delegating,
  AcceptDelegation: answering,
  DeclineDelegation: answering,
  WithdrawDelegation: answering,
  AcknowledgeCarePrompt: { action: 'delegation.respond', needs: [need('Communication', 'u')] },
  AcknowledgeEscalation: escalation,
  ResolveEscalation: escalation,
  /** Reads: a person's delegations, escalations and prompts; a care worker's worklist. */
  ReadDelegations: delegationRead,
  ReadEscalations: { action: 'fhir.read', needs: [need('Communication', 'r')] },
  ReadWorklist: delegationRead,
  ReadFrameworks: { action: 'fhir.read', needs: [need('PlanDefinition', 'r')] },
  /** An organisation's on-call rota: set by its registered manager (within their own organisation); read by anyone who reads the directory. */
  SetOnCallRota: { action: 'practitioner.register', needs: [need('PractitionerRole', 'u')] },
  ReadOnCallRota: { action: 'fhir.read', needs: [need('PractitionerRole', 'r')] },
} as const satisfies Record<string, EndpointAccess>;
export type DelegationOperationId = keyof typeof DELEGATION_ACCESS;

/**
 * FHIR Subscriptions (apps/tandem/src/subscriptions): created for a person's events (the topic's
 * `patient` filter) only by someone who may read that person's record now; read, searched and
 * deleted by their owner only (the route checks the owner). Each notification is then decided as
 * a read of the person at the event's position (NOTIFICATION_ACCESS), so a subscription outlives
 * no relationship.
 */
export const SUBSCRIPTION_ACCESS = {
  create: { action: 'subscription.manage', needs: [need('Subscription', 'c')] } as EndpointAccess,
  read: { action: 'subscription.manage', needs: [need('Subscription', 'r')] } as EndpointAccess,
  search: { action: 'subscription.manage', needs: [need('Subscription', 's')] } as EndpointAccess,
  delete: { action: 'subscription.manage', needs: [need('Subscription', 'd')] } as EndpointAccess,
};

/** A notification about a person's resource of this type: exactly a read of it. */
export const NOTIFICATION_ACCESS = (type: string): EndpointAccess => FHIR_ACCESS.read(type);

/** The care-quality indicators (issue 15): JSON and FHIR Measure/MeasureReport, for an organisation (the auditor: any; its registered manager: her own). */
/** A home-care provider's capacity (issue 15; docs/decisions/0037): JSON and FHIR, for an organisation. */
export const CAPACITY_ACCESS = {
  read: { action: 'capacity.read', needs: [] } as EndpointAccess,
};

export const QUALITY_ACCESS = {
  read: { action: 'quality.read', needs: [] } as EndpointAccess,
};
