import type { CorrectableEntryType, Instruction } from '@tandem/contracts';
import type { EventStore } from '@tandem/event-store';
import type { FrameworkCatalogue } from './frameworks';
import { englandInstant } from '@tandem/contracts';
import { careStreamOf } from './streams';
import { instructionText } from './instruction';
import { monitoringDue } from '../rules';
import { careStreamEvent, ACTIVE_STATUSES } from '../reactions/context';
import type { DelegationViews, EscalationRow } from '../reactions/read-model';
import { standingPrompts, type StandingPrompt } from './dose-prompts';

/** Where each kind of entry is recorded in the JSON API (services/record COMMAND_ROUTES). */
export const ENTRY_PATHS: Readonly<Record<CorrectableEntryType, string>> = {
  VitalSignsRecorded: 'vital-signs',
  BloodGlucoseRecorded: 'blood-glucose',
  SoftSignsRecorded: 'soft-signs',
  UrinarySymptomsScreened: 'urinary-symptoms',
  FluidIntakeRecorded: 'fluid-intake',
  CellulitisChecked: 'cellulitis-checks',
  NoteWritten: 'notes',
  InsulinAdministered: 'insulin-administrations',
  InsulinWithheld: 'insulin-withheld',
  MedicineDoseRecorded: 'medicine-doses',
};

export interface ToRecord {
  readonly entry: CorrectableEntryType;
  readonly title: string;
  /** POST here, with the person's id in the path. */
  readonly path: string;
  readonly when?: string;
}

export interface WorklistItem {
  readonly delegationId: string;
  readonly patientId: string;
  readonly frameworkId: string;
  readonly activityId: string;
  readonly activity: string;
  readonly dueAt: string;
  readonly status: 'due' | 'done' | 'overdue' | 'withheld';
  readonly instruction: Instruction;
  readonly instructionText: string;
  /** What to record, in order: the checks the framework asks for first, then the activity itself. */
  readonly record: readonly ToRecord[];
  /** An open prompt says not to do this now (e.g. glucose below 4.0 mmol/L). */
  readonly doNotDo?: string;
}

export interface Worklist {
  readonly careWorkerId: string;
  readonly date: string;
  readonly items: readonly WorklistItem[];
  /** Checks a framework asks for at intervals (a daily cellulitis check), with when they fall due. */
  readonly monitoring: readonly { delegationId: string; patientId: string; title: string; dueAt: string; missedAt: string; record: ToRecord }[];
  /** Delegations proposed to this care worker, waiting for an answer (accept or decline; declining is normal). */
  readonly awaitingAnswer: readonly { delegationId: string; patientId: string; frameworkId: string; activityId: string; instructionText: string; delegatedBy: string }[];
  /** Open prompts; a dose-overdue one names its dose, and goes once the dose has an outcome (dose-prompts.ts). */
  readonly prompts: readonly StandingPrompt[];
  /** Escalations with this care worker at the last tier (NHS 111 / 999 advice). */
  readonly escalations: readonly EscalationRow[];
}

const pathFor = (patientId: string, entry: CorrectableEntryType) => `/api/patients/${patientId}/${ENTRY_PATHS[entry]}`;
const WINDOW_MINUTES = 120;
const OVERDUE_MINUTES = 60;

/**
 * A care worker's worklist for one day (England's date): every activity their active
 * delegations ask for that day, at the instruction's times, with what to record (the blood
 * glucose before each insulin dose, then the dose), whether it is done, and anything an open prompt
 * says not to do; the monitoring due; delegations waiting for their answer; their open prompts.
 * Authority is enforced here, before the act: a suspended or withdrawn delegation offers nothing.
 */
export const worklistFor = async (o: {
  careWorkerId: string;
  date: string;
  now: Date;
  views: DelegationViews;
  store: EventStore;
  frameworks: FrameworkCatalogue;
}): Promise<Worklist> => {
  const delegations = await o.views.delegationsForCareWorker(o.careWorkerId);
  const active = delegations.filter((d) => ACTIVE_STATUSES.includes(d.status));
  const prompts = await standingPrompts(await o.views.prompts({ careWorkerId: o.careWorkerId, open: true }), o.store);
  const items: WorklistItem[] = [];
  const monitoring: Worklist['monitoring'][number][] = [];
  for (const delegation of active) {
    const framework = o.frameworks.get(delegation.frameworkId);
    const activity = framework?.activities.find((a) => a.id === delegation.activityId);
    if (!framework || !activity) continue;
    const events = (await o.store.readStream(careStreamOf(delegation.patientId))).map(careStreamEvent);
    const before: ToRecord[] = framework.monitoring.flatMap((m) =>
      m.schedule.kind === 'before' && m.schedule.activityId === activity.id
        ? [{ entry: m.entry, title: `${m.title} (within ${m.schedule.withinMinutes} minutes before)`, path: pathFor(delegation.patientId, m.entry) }]
        : [],
    );
    const withheld = prompts.find((p) => p.patientId === delegation.patientId && p.withholdActivityId === activity.id);
    for (const time of delegation.instruction.times ?? []) {
      const dueAt = englandInstant(o.date, time);
      const due = Date.parse(dueAt);
      const inWindow = (type: string) =>
        events.some((e) => e.type === type && Math.abs(Date.parse(e.occurredAt) - due) <= WINDOW_MINUTES * 60_000);
      const status: WorklistItem['status'] = inWindow(activity.entry)
        ? 'done'
        : inWindow('InsulinWithheld') && activity.entry === 'InsulinAdministered'
          ? 'withheld'
          : o.now.getTime() > due + OVERDUE_MINUTES * 60_000
            ? 'overdue'
            : 'due';
      items.push({
        delegationId: delegation.delegationId,
        patientId: delegation.patientId,
        frameworkId: framework.id,
        activityId: activity.id,
        activity: activity.title,
        dueAt,
        status,
        instruction: delegation.instruction,
        instructionText: instructionText(delegation.instruction),
        record: [...before, { entry: activity.entry, title: activity.title, path: pathFor(delegation.patientId, activity.entry), when: dueAt }],
        ...(withheld ? { doNotDo: `${withheld.title}: ${withheld.steps[0] ?? 'see the prompt'}` } : {}),
      });
    }
    // Counted from the proposal: a check not done since then is due.
    for (const due of monitoringDue(framework, events, delegation.proposedAt)) {
      monitoring.push({
        delegationId: delegation.delegationId,
        patientId: delegation.patientId,
        title: due.title,
        dueAt: due.dueAt,
        missedAt: due.missedAt,
        record: { entry: due.entry, title: due.title, path: pathFor(delegation.patientId, due.entry) },
      });
    }
  }
  const patients = new Set(delegations.map((d) => d.patientId));
  // With the care worker at the last tier: theirs by delegation, or named as its recipient (a whole-record escalation).
  const escalations = (await o.views.escalations({ open: true })).filter(
    (e) => e.recipient === 'care-worker' && (patients.has(e.patientId) || e.recipients.some((r) => r.tier === e.tier && r.practitionerId === o.careWorkerId)),
  );
  return {
    careWorkerId: o.careWorkerId,
    date: o.date,
    items: items.sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt)),
    monitoring,
    awaitingAnswer: delegations
      .filter((d) => d.status === 'proposed')
      .map((d) => ({ delegationId: d.delegationId, patientId: d.patientId, frameworkId: d.frameworkId, activityId: d.activityId, instructionText: instructionText(d.instruction), delegatedBy: d.delegatedBy })),
    prompts,
    escalations,
  };
};
