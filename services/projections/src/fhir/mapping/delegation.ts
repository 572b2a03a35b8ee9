import type {
  CompetenceReinstatedData,
  CompetenceSignedOffData,
  DelegationActivatedData,
  DelegationDeclinedData,
  DelegationEndedData,
  DelegationProposedData,
  DelegationReviewedData,
  DelegationSuspendedData,
  DelegationWithdrawnData,
  EscalationAcknowledgedData,
  EscalationRaisedData,
  EscalationReEscalatedData,
  EscalationResolvedData,
  EscalationSentToTierData,
  Instruction,
  PersonAgreementRecordedData,
  ReviewDueData,
  StreamName,
} from '@tandem/contracts';
import { streamOfKind } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { Annotation, CarePlan, Communication, Flag, Practitioner, PractitionerQualification, Reference, Task } from 'fhir/r4';
import { createHash } from 'node:crypto';
import { refKey, tokenKeys } from '@tandem/fhir-read-model';
import type { FhirReads, IndexedResource, ResourceKey } from '../writer';
import { compact, dataOf, fhirDateTime, patientRef, practitionerRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';
import { indexPractitioner } from './practitioner';

/**
 * The delegation service's events as FHIR R4, for GPs and other systems:
 *
 * - each delegation is a Task (requester the delegating nurse, owner the care worker, for the
 *   person, basedOn the person's CarePlan for the framework), its status following the delegation:
 *   proposed -> requested, accepted -> accepted, declined -> rejected, active or due for review ->
 *   in-progress, suspended -> on-hold, withdrawn -> cancelled, ended -> completed;
 * - one CarePlan per person and framework, listing its delegations as activities;
 * - each escalation is a Communication (the SBARD message in its payload, every tier and
 *   acknowledgement a note) and a Flag, active while the escalation is open;
 * - a care worker's signed-off competence is a Practitioner.qualification (period: sign-off to
 *   validUntil; a lapse, suspension or revocation ends the period and says so).
 *
 * Mapped from the events alone (the framework's data lives in the delegation service).
 */

export const TANDEM_DELEGATION_SYSTEM = 'https://tandem.nhs.example/fhir/delegation';
export const COMPETENCE_SYSTEM = 'https://tandem.nhs.example/fhir/competence';
export const COMPETENCE_STATUS_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/competence-status';
export const ESCALATION_TIER_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/escalation-tier';

type WithId<R> = R & { id: string };

/** "insulin-administration" -> "Insulin administration". */
const inWords = (id: string): string => {
  const words = id.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** One CarePlan per person and framework: a stable id from both (a FHIR id, at most 64 characters). */
export const carePlanId = (patientId: string, frameworkId: string): string =>
  `careplan-${createHash('sha1').update(`${patientId}|${frameworkId}`).digest('hex').slice(0, 32)}`;

export const flagId = (escalationId: string): string => `flag-${escalationId}`;

const instructionText = (instruction: Instruction): string => {
  if (instruction.kind === 'general') return `${instruction.plan}${instruction.times?.length ? ` (at ${instruction.times.join(', ')})` : ''}`;
  const { product, dose, times, sites, glucoseTargets, minimumIntervalMinutes } = instruction;
  return (
    `${dose.value} units of ${product} by ${instruction.device} at ${times.join(', ')}; sites ${sites.join(', ')}; ` +
    `blood glucose target ${glucoseTargets.lowMmolL}-${glucoseTargets.highMmolL} mmol/L; at least ${minimumIntervalMinutes} minutes between doses. ` +
    `If out of range: ${instruction.whenOutOfRange}`
  );
};

/** The stream's name taken apart; a delegation event on another kind of stream is a corrupt log, not something to map. */
const streamOf = <K extends StreamName['kind']>(event: RecordedEvent, kind: K): Extract<StreamName, { kind: K }> => {
  const name = streamOfKind(event.stream, kind);
  if (!name) throw new Error(`${event.type} at position ${event.position} is on ${event.stream}, not a ${kind} stream`);
  return name;
};
const delegationIdOf = (event: RecordedEvent): string => streamOf(event, 'delegation').delegationId;
const escalationIdOf = (event: RecordedEvent): string => streamOf(event, 'escalation').escalationId;
const at = (event: RecordedEvent): string => fhirDateTime(event.metadata.occurredAt);
const note = (event: RecordedEvent, text: string, author?: Reference): Annotation => ({ ...(author ? { authorReference: author } : {}), time: at(event), text });

// ---------------------------------------------------------------------------------------------
// Task and CarePlan
// ---------------------------------------------------------------------------------------------

export const indexTask = (task: WithId<Task>): IndexedResource => {
  const patient = task.for?.reference?.startsWith('Patient/') ? task.for.reference.slice('Patient/'.length) : undefined;
  return {
    resource: task,
    ...(patient ? { patientId: patient } : {}),
    tokens: tokenKeys('status', undefined, task.status),
    refs: [
      ...(task.owner?.reference ? [refKey('owner', task.owner.reference)] : []),
      ...(task.requester?.reference ? [refKey('requester', task.requester.reference)] : []),
      ...(task.basedOn ?? []).flatMap((b) => (b.reference ? [refKey('based-on', b.reference)] : [])),
    ],
    ...(task.authoredOn ? { effective: task.authoredOn } : {}),
  };
};

export const indexCarePlan = (plan: WithId<CarePlan>, patientId: string): IndexedResource => ({
  resource: plan,
  patientId,
  tokens: tokenKeys('status', undefined, plan.status),
  ...(plan.created ? { effective: plan.created } : {}),
});

const currentTask = async (reads: FhirReads, delegationId: string): Promise<WithId<Task> | undefined> => {
  const [found] = await reads.current<Task>('Task', [delegationId]);
  return found ? { ...withoutMeta(found.resource), id: delegationId } : undefined;
};

/** A new version of the delegation's Task: status, business status, reason, period, notes. */
const taskChange =
  <Data>(change: (task: WithId<Task>, data: Data, event: RecordedEvent) => Partial<Task>) =>
  async (event: RecordedEvent, reads: FhirReads): Promise<readonly IndexedResource[]> => {
    const task = await currentTask(reads, delegationIdOf(event));
    if (!task) return [];
    const changed = compact({ ...task, ...change(task, dataOf<Data>(event), event), lastModified: at(event) }) as WithId<Task>;
    return [indexTask(changed)];
  };

const business = (text: string) => ({ businessStatus: { text } });
const reason = (text: string) => ({ statusReason: { text } });
const withNote = (task: Task, annotation: Annotation) => ({ note: [...(task.note ?? []), annotation] });
const ended = (task: Task, event: RecordedEvent) => ({ executionPeriod: { ...task.executionPeriod, end: at(event) } });

export const delegationHandlers: FhirHandlers = {
  DelegationProposed: async (event, reads) => {
    const d = dataOf<DelegationProposedData>(event);
    const planId = carePlanId(d.patientId, d.frameworkId);
    const framework = inWords(d.frameworkId);
    const task: WithId<Task> = {
      resourceType: 'Task',
      id: d.delegationId,
      identifier: [{ system: TANDEM_DELEGATION_SYSTEM, value: d.delegationId }],
      basedOn: [{ reference: `CarePlan/${planId}` }],
      status: 'requested',
      businessStatus: { text: 'Proposed: waiting for the care worker to accept or decline' },
      intent: 'order',
      priority: 'routine',
      code: { text: `Delegated activity: ${inWords(d.activityId)}` },
      description: instructionText(d.instruction),
      for: patientRef(d.patientId),
      authoredOn: at(event),
      lastModified: at(event),
      requester: practitionerRef(d.delegatedBy.practitionerId),
      owner: practitionerRef(d.careWorker.practitionerId),
      note: [note(event, `Delegated under the ${framework} framework (version ${d.frameworkVersion}); review every ${d.reviewIntervalDays} days.`, practitionerRef(d.delegatedBy.practitionerId))],
    };
    const [found] = await reads.current<CarePlan>('CarePlan', [planId]);
    const activity = { reference: { reference: `Task/${d.delegationId}` } };
    const plan: WithId<CarePlan> = found
      ? { ...withoutMeta(found.resource), id: planId, activity: [...(found.resource.activity ?? []).filter((a) => a.reference?.reference !== `Task/${d.delegationId}`), activity] }
      : {
          resourceType: 'CarePlan',
          id: planId,
          identifier: [{ system: `${TANDEM_DELEGATION_SYSTEM}/framework`, value: `${d.frameworkId}` }],
          status: 'active',
          intent: 'plan',
          category: [{ text: 'Delegated healthcare activities' }],
          title: `Delegated care: ${framework}`,
          description: `Healthcare activities delegated by a registered nurse to trained care workers under the ${framework} framework.`,
          subject: patientRef(d.patientId),
          created: at(event),
          author: practitionerRef(d.delegatedBy.practitionerId),
          activity: [activity],
        };
    return [indexCarePlan(plan, d.patientId), indexTask(task)];
  },
  DelegationAccepted: taskChange(() => ({ status: 'accepted', ...business('Accepted by the care worker') })),
  DelegationDeclined: taskChange<DelegationDeclinedData>((_t, d) => ({
    status: 'rejected',
    ...business('Declined by the care worker'),
    ...reason(d.reason ?? 'Declined (declining is normal; no reason is needed)'),
  })),
  PersonAgreementRecorded: taskChange<PersonAgreementRecordedData>((task, d, event) =>
    withNote(task, note(event, d.agreedBy === 'person' ? 'The person agreed to the delegation.' : `Agreed by ${d.representative?.name} (${d.representative?.relationship}) on the person's behalf.`)),
  ),
  DelegationActivated: taskChange<DelegationActivatedData>((task, d, event) => ({
    status: 'in-progress',
    ...business(`Active: the care worker's competence is signed off until ${d.competence.validUntil ?? 'unknown'}; review due ${d.reviewDueAt}`),
    statusReason: undefined,
    executionPeriod: { start: task.executionPeriod?.start ?? at(event) },
    restriction: { period: { start: task.executionPeriod?.start ?? at(event), end: fhirDateTime(d.reviewDueAt) } },
  })),
  ReviewDue: taskChange<ReviewDueData>((_t, d) => ({ status: 'in-progress', ...business(`Review due (since ${d.dueAt})`) })),
  DelegationReviewed: taskChange<DelegationReviewedData>((task, d, event) => ({
    status: 'in-progress',
    ...business(`Active: reviewed; next review due ${d.nextReviewDueAt}`),
    restriction: { period: { ...task.restriction?.period, end: fhirDateTime(d.nextReviewDueAt) } },
    ...withNote(task, note(event, `Reviewed: ${d.notes}`, practitionerRef(d.reviewedBy.practitionerId))),
  })),
  DelegationSuspended: taskChange<DelegationSuspendedData>((_t, d) => ({
    status: 'on-hold',
    ...business(d.cause === 'decision' ? 'Suspended' : `Suspended: the care worker's competence was ${d.cause.replace('competence-', '')}`),
    ...reason(d.reason),
  })),
  DelegationWithdrawn: taskChange<DelegationWithdrawnData>((task, d, event) => ({ status: 'cancelled', ...business('Withdrawn'), ...reason(d.reason), ...ended(task, event) })),
  DelegationEnded: taskChange<DelegationEndedData>((task, d, event) => ({ status: 'completed', ...business('Ended'), ...reason(d.reason), ...ended(task, event) })),
};

const taskOf = (event: RecordedEvent): ResourceKey[] => [{ type: 'Task', id: delegationIdOf(event) }];
export const delegationReads: FhirReadKeys = {
  DelegationProposed: (event) => {
    const d = dataOf<DelegationProposedData>(event);
    return [{ type: 'CarePlan', id: carePlanId(d.patientId, d.frameworkId) }];
  },
  ...Object.fromEntries(Object.keys(delegationHandlers).filter((t) => t !== 'DelegationProposed').map((t) => [t, taskOf])),
};

// ---------------------------------------------------------------------------------------------
// Communication and Flag
// ---------------------------------------------------------------------------------------------

const PRIORITY = { emergency: 'stat', urgent: 'urgent', routine: 'routine' } as const;

export const indexCommunication = (c: WithId<Communication>, patientId: string): IndexedResource => ({
  resource: c,
  patientId,
  tokens: tokenKeys('status', undefined, c.status),
  ...(c.sent ? { effective: c.sent } : {}),
});

export const indexFlag = (flag: WithId<Flag>, patientId: string): IndexedResource => ({
  resource: flag,
  patientId,
  tokens: tokenKeys('status', undefined, flag.status),
  ...(flag.period?.start ? { effective: flag.period.start } : {}),
});

const SBARD_PARTS = [
  ['situation', 'Situation'],
  ['background', 'Background'],
  ['assessment', 'Assessment'],
  ['recommendation', 'Recommendation'],
  ['decision', 'Decision'],
] as const;

const patientOf = (resource: { subject?: Reference }): string => resource.subject?.reference?.slice('Patient/'.length) ?? '';

const current = async (reads: FhirReads, escalationId: string) => {
  const [communication] = await reads.current<Communication>('Communication', [escalationId]);
  const [flag] = await reads.current<Flag>('Flag', [flagId(escalationId)]);
  return {
    communication: communication ? { ...withoutMeta(communication.resource), id: escalationId } : undefined,
    flag: flag ? { ...withoutMeta(flag.resource), id: flagId(escalationId) } : undefined,
  };
};

/** A new version of the escalation's Communication (and Flag, when `flag` changes it). */
const escalationChange =
  <Data>(change: (c: WithId<Communication>, data: Data, event: RecordedEvent, reads: FhirReads) => Promise<Partial<Communication>> | Partial<Communication>, flagChange?: (flag: WithId<Flag>, data: Data, event: RecordedEvent) => Partial<Flag>) =>
  async (event: RecordedEvent, reads: FhirReads): Promise<readonly IndexedResource[]> => {
    const found = await current(reads, escalationIdOf(event));
    if (!found.communication) return [];
    const data = dataOf<Data>(event);
    const communication = compact({ ...found.communication, ...(await change(found.communication, data, event, reads)) }) as WithId<Communication>;
    const out = [indexCommunication(communication, patientOf(communication))];
    if (flagChange && found.flag) out.push(indexFlag(compact({ ...found.flag, ...flagChange(found.flag, data, event) }) as WithId<Flag>, patientOf(found.flag)));
    return out;
  };

const commNote = (c: Communication, annotation: Annotation) => ({ note: [...(c.note ?? []), annotation] });

/**
 * Who a tier's message goes to: the people the event names (a Practitioner reference each, the
 * reason in the display); for events stored before tiers named their people, the delegating nurse
 * for the accountable-nurse tier, the care worker at the last tier, otherwise the tier in words.
 */
const recipientsFor = async (reads: FhirReads, c: Communication, d: EscalationSentToTierData): Promise<Reference[]> => {
  const named = [...(d.recipients ?? []), ...(d.informedRecipients ?? [])];
  if (d.recipients !== undefined) return named.map((r) => ({ ...practitionerRef(r.practitionerId), display: `${inWords(d.tierId)}: ${r.reason}` }));
  return [await recipientFor(reads, c, d)];
};

const recipientFor = async (reads: FhirReads, c: Communication, d: EscalationSentToTierData): Promise<Reference> => {
  const taskRef = c.about?.find((a) => a.reference?.startsWith('Task/'))?.reference;
  if (d.recipient === 'accountable-district-nurse' && taskRef) {
    const [task] = await reads.current<Task>('Task', [taskRef.slice('Task/'.length)]);
    if (task?.resource.requester?.reference) return { reference: task.resource.requester.reference, display: 'Accountable district nurse' };
  }
  if (d.recipient === 'care-worker' && taskRef) {
    const [task] = await reads.current<Task>('Task', [taskRef.slice('Task/'.length)]);
    if (task?.resource.owner?.reference) return { reference: task.resource.owner.reference, display: 'Care worker' };
  }
  return { display: inWords(d.recipient) };
};

export const escalationHandlers: FhirHandlers = {
  EscalationRaised: async (event) => {
    const d = dataOf<EscalationRaisedData>(event);
    // The situation's first sentence; a decimal point ("4.0 mmol/L") does not end a sentence.
    const title = d.sbard.situation.split(/\.(?:\s|$)/)[0] ?? d.ruleId;
    const communication: WithId<Communication> = {
      resourceType: 'Communication',
      id: d.escalationId,
      identifier: [{ system: `${TANDEM_DELEGATION_SYSTEM}/escalation`, value: d.escalationId }],
      status: 'in-progress',
      category: [{ text: d.incident ? 'Incident escalation' : 'Deterioration escalation' }],
      priority: PRIORITY[d.urgency],
      subject: patientRef(d.patientId),
      ...(d.delegationId ? { about: [{ reference: `Task/${d.delegationId}` }] } : {}),
      sent: at(event),
      sender: { display: 'Tandem delegation rules' },
      reasonCode: [{ text: `${title} (rule ${d.ruleId}, ${inWords(d.frameworkId)} framework)` }],
      payload: SBARD_PARTS.map(([key, label]) => ({ contentString: `${label}: ${d.sbard[key]}` })),
    };
    const flag: WithId<Flag> = {
      resourceType: 'Flag',
      id: flagId(d.escalationId),
      status: 'active',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'clinical', display: 'Clinical' }] }],
      code: { text: `${d.urgency === 'emergency' ? 'Emergency' : d.urgency === 'urgent' ? 'Urgent' : 'Routine'} escalation open: ${title}` },
      subject: patientRef(d.patientId),
      period: { start: at(event) },
    };
    return [indexCommunication(communication, d.patientId), indexFlag(flag, d.patientId)];
  },
  EscalationSentToTier: escalationChange<EscalationSentToTierData>(async (c, d, event, reads) => {
    const recipients = await recipientsFor(reads, c, d);
    const due = d.nobodyAvailable ? '; nobody available: sent on at once' : d.dueAt ? `; to acknowledge by ${d.dueAt}` : '; the last tier';
    const named = d.recipients?.length ? ` To ${d.recipients.map((r) => r.practitionerId).join(', ')}.` : '';
    const kept = (c.recipient ?? []).filter((r) => !recipients.some((n) => n.reference === r.reference && n.display === r.display));
    return {
      // everyone told so far, tier by tier (one nurse may be both the delegating nurse and on call)
      recipient: [...kept, ...recipients],
      // the tier as people count it (1 is the first), the same number as the notes say
      extension: [{ url: ESCALATION_TIER_EXTENSION, valueInteger: d.tier + 1 }],
      ...commNote(
        c,
        note(event, `Sent to tier ${d.tier + 1} (${inWords(d.tierId)})${due}.${named}${d.advice ? ` Advice: ${d.advice}` : ''}${d.informed.length ? ` Informed: ${d.informed.map(inWords).join(', ')}.` : ''}`),
      ),
    };
  }),
  EscalationReEscalated: escalationChange<EscalationReEscalatedData>((c, d, event) => commNote(c, note(event, `Re-escalated from tier ${d.fromTier + 1} to tier ${d.toTier + 1}: ${d.reason}`))),
  EscalationAcknowledged: escalationChange<EscalationAcknowledgedData>((c, d, event) =>
    commNote(c, note(event, `Acknowledged by ${d.by.practitionerId} (${d.by.role}) at tier ${d.tier + 1}${d.note ? `: ${d.note}` : ''}`, practitionerRef(d.by.practitionerId))),
  ),
  EscalationResolved: escalationChange<EscalationResolvedData>(
    (c, d, event) => ({ status: 'completed', received: at(event), ...commNote(c, note(event, `Resolved: ${d.outcome}`, practitionerRef(d.by.practitionerId))) }),
    (flag, _d, event) => ({ status: 'inactive', period: { ...flag.period, end: at(event) } }),
  ),
};

const communicationAndFlag = (event: RecordedEvent): ResourceKey[] => {
  const id = escalationIdOf(event);
  return [
    { type: 'Communication', id },
    { type: 'Flag', id: flagId(id) },
  ];
};
export const escalationReads: FhirReadKeys = Object.fromEntries(Object.keys(escalationHandlers).filter((t) => t !== 'EscalationRaised').map((t) => [t, communicationAndFlag]));

// ---------------------------------------------------------------------------------------------
// Practitioner.qualification
// ---------------------------------------------------------------------------------------------

/** The care worker a competency stream is for: its name says (contracts' `parseStreamName`, unambiguous). */
const careWorkerOf = (stream: string): string | undefined => streamOfKind(stream, 'competency')?.careWorkerId;

const withQualification = (practitioner: WithId<Practitioner>, qualification: PractitionerQualification, stream: string): WithId<Practitioner> => ({
  ...practitioner,
  qualification: [...(practitioner.qualification ?? []).filter((q) => !q.identifier?.some((i) => i.system === COMPETENCE_SYSTEM && i.value === stream)), qualification],
});

/** The practitioner whose qualification this competency stream is, and the qualification. */
const findQualification = async (reads: FhirReads, stream: string) => {
  const careWorkerId = careWorkerOf(stream);
  const found = careWorkerId === undefined ? [] : await reads.current<Practitioner>('Practitioner', [careWorkerId]);
  for (const p of found) {
    const q = p.resource.qualification?.find((x) => x.identifier?.some((i) => i.system === COMPETENCE_SYSTEM && i.value === stream));
    if (q) return { practitioner: { ...withoutMeta(p.resource), id: p.resource.id }, qualification: q };
  }
  return undefined;
};

const qualificationChange =
  (change: (q: PractitionerQualification, event: RecordedEvent) => PractitionerQualification) =>
  async (event: RecordedEvent, reads: FhirReads): Promise<readonly IndexedResource[]> => {
    const found = await findQualification(reads, event.stream);
    if (!found) return [];
    return [indexPractitioner(withQualification(found.practitioner, change(found.qualification, event), event.stream))];
  };

const withStatus = (q: PractitionerQualification, status: string, words: string): PractitionerQualification => ({
  ...q,
  code: { text: `${(q.code.text ?? '').replace(/ \((signed off|lapsed|suspended|revoked)[^)]*\)$/, '')} (${words})` },
  extension: [...(q.extension ?? []).filter((e) => e.url !== COMPETENCE_STATUS_EXTENSION), { url: COMPETENCE_STATUS_EXTENSION, valueCode: status }],
});

export const competenceHandlers: FhirHandlers = {
  CompetenceSignedOff: async (event, reads) => {
    const d = dataOf<CompetenceSignedOffData>(event);
    const careWorkerId = streamOf(event, 'competency').careWorkerId;
    const [found] = await reads.current<Practitioner>('Practitioner', [careWorkerId]);
    const practitioner: WithId<Practitioner> = found ? { ...withoutMeta(found.resource), id: careWorkerId } : { resourceType: 'Practitioner', id: careWorkerId, active: true };
    const qualification: PractitionerQualification = withStatus(
      {
        identifier: [{ system: COMPETENCE_SYSTEM, value: event.stream }],
        code: { text: `Competent to perform a delegated healthcare activity: ${inWords(d.frameworkId)}` },
        period: { start: at(event), end: fhirDateTime(d.validUntil) },
        issuer: practitionerRef(d.assessor.practitionerId),
      },
      'signed-off',
      `signed off by ${d.assessor.practitionerId}, ${d.assessor.registration.value}; valid until ${d.validUntil.slice(0, 10)}`,
    );
    return [indexPractitioner(withQualification(practitioner, qualification, event.stream))];
  },
  CompetenceLapsed: qualificationChange((q, event) => ({ ...withStatus(q, 'lapsed', 'lapsed: not reassessed in time'), period: { ...q.period, end: at(event) } })),
  CompetenceSuspended: qualificationChange((q, event) => ({ ...withStatus(q, 'suspended', `suspended: ${(event.data as { reason: string }).reason}`), period: { ...q.period, end: at(event) } })),
  CompetenceRevoked: qualificationChange((q, event) => ({ ...withStatus(q, 'revoked', `revoked: ${(event.data as { reason: string }).reason}`), period: { ...q.period, end: at(event) } })),
  CompetenceReinstated: qualificationChange((q, event) => {
    const d = dataOf<CompetenceReinstatedData>(event);
    return { ...withStatus(q, 'signed-off', `reinstated; valid until ${d.validUntil.slice(0, 10)}`), period: { ...q.period, end: fhirDateTime(d.validUntil) } };
  }),
};

const practitionerOf = (event: RecordedEvent): ResourceKey[] => {
  const careWorkerId = careWorkerOf(event.stream);
  return careWorkerId === undefined ? [] : [{ type: 'Practitioner', id: careWorkerId }];
};
export const competenceReads: FhirReadKeys = Object.fromEntries(Object.keys(competenceHandlers).map((t) => [t, practitionerOf]));

/** Every delegation-service event the FHIR read model maps. */
export const delegationServiceHandlers: FhirHandlers = { ...delegationHandlers, ...escalationHandlers, ...competenceHandlers };
export const delegationServiceReads: FhirReadKeys = { ...delegationReads, ...escalationReads, ...competenceReads };

/** Task statuses as the delegation states map to them (for documentation and tests). */
export const TASK_STATUS_OF_DELEGATION = {
  proposed: 'requested',
  accepted: 'accepted',
  declined: 'rejected',
  active: 'in-progress',
  reviewDue: 'in-progress',
  suspended: 'on-hold',
  withdrawn: 'cancelled',
  ended: 'completed',
} as const satisfies Record<string, Task['status']>;
