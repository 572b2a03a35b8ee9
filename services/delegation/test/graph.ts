import type { Actor, RegisteredProfessional } from '@tandem/contracts';
import type { AnyMachineSnapshot } from 'xstate';
import type { StatePath } from 'xstate/graph';
import type { Framework } from '../src/frameworks';
import { addMonths, type CompetenceMachineEvent, type CompetenceState } from '../src/machines';
import { nadia } from './fixtures';

/**
 * Helpers for walking a machine's graph with xstate/graph: the shortest path to each state value
 * (the traversal may reach a state with different contexts), and the event types along a path.
 */

type AnyPath = StatePath<AnyMachineSnapshot, { type: string }>;

/** The shortest path to each state value. */
export const shortestByState = <P extends AnyPath>(paths: readonly P[]): Map<string, P> => {
  const byState = new Map<string, P>();
  for (const path of paths) {
    const value = String(path.state.value);
    const known = byState.get(value);
    if (!known || path.steps.length < known.steps.length) byState.set(value, path);
  }
  return byState;
};

/** The event types along a path (without xstate's own init step). */
export const typesOf = (path: AnyPath): string[] => eventsOf(path).map((event) => event.type);

/** The machine events along a path (without xstate's own init step). */
export const eventsOf = <P extends AnyPath>(path: P): P['steps'][number]['event'][] =>
  path.steps.map((step) => step.event).filter((event) => event.type !== 'xstate.init');

/** Every state of a flat machine, by name. */
export const statesOf = (machine: { root: { states: Record<string, unknown> } }): string[] => Object.keys(machine.root.states).sort();

// ---------------------------------------------------------------------------------------------
// One valid competence event of every type, for any framework (the graph walk supplies them)
// ---------------------------------------------------------------------------------------------

/** One valid event of every type, as it would be in this state (times and counts follow the context). */
export const competenceEventsFor =
  (framework: Framework, at: string, assessor: Actor = nadia) =>
  (state: CompetenceState): CompetenceMachineEvent[] => {
    const modules = framework.competence.trainingModules.map((m) => m.id);
    const required = framework.competence.supervisedPractices;
    const by: RegisteredProfessional = { practitionerId: assessor.id, role: assessor.role, registration: assessor.registration! };
    const aYearOn = addMonths(at, framework.competence.reassessmentMonths);
    const validUntil = state.context.validUntil ?? aYearOn;
    return [
      {
        type: 'TrainingStarted',
        occurredAt: at,
        data: {
          careWorker: { practitionerId: 'amira', role: 'care-worker' },
          frameworkId: framework.id,
          frameworkVersion: framework.version,
          requirements: { trainingModules: modules, supervisedPractices: required, reassessmentMonths: framework.competence.reassessmentMonths },
        },
      },
      ...modules.map((moduleId): CompetenceMachineEvent => ({ type: 'TrainingModuleCompleted', occurredAt: at, data: { moduleId } })),
      { type: 'TrainingCompleted', occurredAt: at, data: { modules } },
      {
        type: 'SupervisedPracticeRecorded',
        occurredAt: at,
        data: { observer: by, outcome: 'satisfactory', satisfactoryCount: state.context.satisfactoryPractices + 1, required },
      },
      { type: 'ReadyForAssessment', occurredAt: at, data: { satisfactoryPractices: required, required } },
      {
        type: 'CompetenceSignedOff',
        occurredAt: at,
        data: { assessor: by, validUntil: aYearOn, careWorkerConsent: true, frameworkId: framework.id, frameworkVersion: framework.version },
      },
      { type: 'CompetenceAssessmentNotPassed', occurredAt: at, data: { assessor: by, feedback: 'Needs more practice.' } },
      { type: 'CompetenceLapsed', occurredAt: validUntil, data: { validUntil } },
      { type: 'CompetenceSuspended', occurredAt: at, data: { by, reason: 'Drug error under investigation' } },
      { type: 'CompetenceRevoked', occurredAt: at, data: { by, reason: 'Repeated unsafe practice' } },
      { type: 'CompetenceReinstated', occurredAt: at, data: { by, reason: 'Investigation closed, no fault', validUntil } },
    ];
  };

/** Practices beyond the required number are the same state. */
export const competenceSerialized = (s: CompetenceState): string =>
  JSON.stringify({
    value: s.value,
    modules: s.context.modulesCompleted.length,
    practices: Math.min(s.context.satisfactoryPractices, s.context.requirements?.supervisedPractices ?? 1),
    validUntil: s.context.validUntil,
  });
