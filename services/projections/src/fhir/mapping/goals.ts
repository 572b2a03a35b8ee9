import type { GoalAgreedData, GoalClosedData, GoalProgressRecordedData } from '@tandem/contracts';
import { englandDate } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { tokenKeys } from '@tandem/fhir-read-model';
import type { Goal } from 'fhir/r4';
import type { IndexedResource } from '../writer';
import { dataOf, fhirDateTime, noteFrom, patientRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';

/**
 * A person's own outcomes as FHIR Goal (issue 15; docs/decisions/0037): `Goal/<goalId>`, the
 * statement in the person's words (description.text), expressed by the person, agreed on
 * startDate; each progress recorded is a new version (achievementStatus, and the person's words
 * as a note), so the Goal's history is its progress over time; a close sets lifecycleStatus.
 */
const ACHIEVEMENT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/goal-achievement';
const ACHIEVEMENT_DISPLAY: Readonly<Record<string, string>> = {
  'in-progress': 'In Progress',
  improving: 'Improving',
  worsening: 'Worsening',
  'no-change': 'No Change',
  achieved: 'Achieved',
  sustaining: 'Sustaining',
  'not-achieved': 'Not Achieved',
  'no-progress': 'No Progress',
  'not-attainable': 'Not Attainable',
};
const achievement = (code: string) => ({ coding: [{ system: ACHIEVEMENT_SYSTEM, code, display: ACHIEVEMENT_DISPLAY[code] ?? code }] });

const indexGoal = (goal: Goal & { id: string }, patientId: string): IndexedResource => ({
  resource: goal,
  patientId,
  tokens: [...tokenKeys('lifecycle-status', undefined, goal.lifecycleStatus), ...(goal.achievementStatus?.coding?.[0]?.code ? tokenKeys('achievement-status', ACHIEVEMENT_SYSTEM, goal.achievementStatus.coding[0].code) : [])],
  ...(goal.startDate ? { effective: goal.startDate } : {}),
});

const goalKey = (event: RecordedEvent) => [{ type: 'Goal' as const, id: dataOf<{ goalId: string }>(event).goalId }];
export const goalReads: FhirReadKeys = { GoalProgressRecorded: goalKey, GoalClosed: goalKey };

export const goalHandlers: FhirHandlers = {
  GoalAgreed: (event) => {
    const d = dataOf<GoalAgreedData>(event);
    const goal: Goal & { id: string } = {
      resourceType: 'Goal',
      id: d.goalId,
      lifecycleStatus: 'active',
      achievementStatus: achievement('in-progress'),
      description: { text: d.statement },
      subject: patientRef(d.patientId),
      startDate: englandDate(new Date(event.metadata.occurredAt)),
      expressedBy: patientRef(d.patientId),
      ...(d.target ? { target: [{ measure: { text: d.target.description }, ...(d.target.dueDate ? { dueDate: d.target.dueDate } : {}) }] } : {}),
      statusDate: englandDate(new Date(event.metadata.occurredAt)),
      ...(d.note ? { note: [noteFrom(event, d.note)] } : {}),
    };
    return Promise.resolve([indexGoal(goal, d.patientId)]);
  },

  GoalProgressRecorded: async (event, reads) => {
    const d = dataOf<GoalProgressRecordedData>(event);
    const [current] = await reads.current<Goal>('Goal', [d.goalId]);
    if (!current) return [];
    const goal = withoutMeta(current.resource) as Goal & { id: string };
    return [indexGoal({ ...goal, achievementStatus: achievement(d.achievementStatus), statusDate: englandDate(new Date(event.metadata.occurredAt)), note: [...(goal.note ?? []), { ...noteFrom(event, d.note), time: fhirDateTime(event.metadata.occurredAt) }] }, d.patientId)];
  },

  GoalClosed: async (event, reads) => {
    const d = dataOf<GoalClosedData>(event);
    const [current] = await reads.current<Goal>('Goal', [d.goalId]);
    if (!current) return [];
    const goal = withoutMeta(current.resource) as Goal & { id: string };
    return [
      indexGoal(
        {
          ...goal,
          lifecycleStatus: d.lifecycleStatus,
          ...(d.achievementStatus ? { achievementStatus: achievement(d.achievementStatus) } : {}),
          statusDate: englandDate(new Date(event.metadata.occurredAt)),
          statusReason: d.reason,
        },
        d.patientId,
      ),
    ];
  },
};
