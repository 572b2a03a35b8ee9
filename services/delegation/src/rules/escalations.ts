import type { EscalationCommand, Sbard, Urgency } from '@tandem/contracts';
import type { Ruleset } from '../frameworks/schema';
import { tierDeadlineMinutes } from '../machines/escalation';
import { describeEntry } from './conditions';
import type { CareEntry } from './entries';

/**
 * What a rule asks for: an escalation to raise, with its SBARD message already written, and the
 * command that raises it.
 */

export interface EscalationToRaise {
  readonly frameworkId: string;
  /** The rule's clinical name (e.g. insulin.hypo, monitoring.cellulitis-daily-check.missed). */
  readonly ruleId: string;
  readonly title: string;
  readonly urgency: Urgency;
  readonly incident: boolean;
  readonly triggeringEntryIds: readonly string[];
  readonly sbard: Sbard;
}

export const URGENCY_ORDER: readonly Urgency[] = ['emergency', 'urgent', 'routine'];
export const moreUrgent = (a: Urgency, b: Urgency): boolean => URGENCY_ORDER.indexOf(a) < URGENCY_ORDER.indexOf(b);

const clip = (text: string, max = 2000): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const deadlineInWords = (framework: Ruleset, urgency: Urgency): string => {
  if (urgency === 'emergency') return '';
  const minutes = tierDeadlineMinutes(framework, 0, urgency);
  return ` Please acknowledge within ${minutes >= 120 && minutes % 60 === 0 ? `${minutes / 60} hours` : `${minutes} minutes`}.`;
};

/** Situation, Background, Assessment, Recommendation, Decision, from what the rule found. */
export const sbardFor = (
  framework: Ruleset,
  item: { title: string; urgency: Urgency; findings: readonly string[]; recommendation: string; entry?: CareEntry; also?: readonly string[] },
  background?: string,
): Sbard => {
  const { entry } = item;
  const recorded = entry
    ? ` Recorded for ${entry.occurredAt}${entry.recordedBy ? ` by ${entry.recordedBy.id} (${entry.recordedBy.role})` : ''}: ${describeEntry(entry)}.`
    : '';
  return {
    situation: clip(`${item.title}.${recorded}`),
    background: clip(`${framework.title} (framework ${framework.id} v${framework.version}).${background ? ` ${background}` : ''}`),
    assessment: clip(`${item.findings.join('; ')}.${item.also?.length ? ` Also: ${item.also.join('; ')}.` : ''}`),
    recommendation: clip(item.recommendation),
    decision: clip(`${framework.escalation.decisionRequested[item.urgency]}${deadlineInWords(framework, item.urgency)}`),
  };
};

/** The command that raises an escalation the rules asked for. */
export const raiseEscalationCommand = (
  escalation: EscalationToRaise,
  ids: { escalationId: string; patientId: string; occurredAt: string; idempotencyKey: string; delegationId?: string },
): Extract<EscalationCommand, { type: 'RaiseEscalation' }> => ({
  type: 'RaiseEscalation',
  idempotencyKey: ids.idempotencyKey,
  occurredAt: ids.occurredAt,
  escalationId: ids.escalationId,
  patientId: ids.patientId,
  frameworkId: escalation.frameworkId,
  ...(ids.delegationId ? { delegationId: ids.delegationId } : {}),
  ruleId: escalation.ruleId,
  urgency: escalation.urgency,
  sbard: escalation.sbard,
  triggeringEntryIds: [...escalation.triggeringEntryIds],
  incident: escalation.incident,
});
