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
  /** Recorded by someone other than a care worker at the bedside (see recordedAwayFromBedside). */
  readonly recordedAwayFromBedside?: boolean;
}

/**
 * An entry recorded by anyone but a care worker (a system integration, a remote device, a nurse or
 * GP entering it elsewhere) cannot be assumed to have someone at the bedside, so an emergency from
 * it is addressed to the first tier with a deadline rather than to a care worker who may not be
 * there (hazard O5). Entries without a recorder (stored before recorders were kept) keep the
 * bedside path.
 */
export const isRecordedAwayFromBedside = (entry: CareEntry | undefined): boolean =>
  entry?.recordedBy !== undefined && entry.recordedBy.role !== 'care-worker';

export const URGENCY_ORDER: readonly Urgency[] = ['emergency', 'urgent', 'routine'];
export const moreUrgent = (a: Urgency, b: Urgency): boolean => URGENCY_ORDER.indexOf(a) < URGENCY_ORDER.indexOf(b);

const clip = (text: string, max = 2000): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const deadlineInWords = (framework: Ruleset, urgency: Urgency, awayFromBedside: boolean): string => {
  if (urgency === 'emergency' && !awayFromBedside) return '';
  const minutes = tierDeadlineMinutes(framework, 0, urgency);
  return ` Please acknowledge within ${minutes >= 120 && minutes % 60 === 0 ? `${minutes / 60} hours` : `${minutes} minutes`}.`;
};

const decisionRequested = (framework: Ruleset, urgency: Urgency, awayFromBedside: boolean): string => {
  const requested = framework.escalation.decisionRequested;
  return urgency === 'emergency' && awayFromBedside ? (requested.emergencyAwayFromBedside ?? requested.urgent) : requested[urgency];
};

/** Situation, Background, Assessment, Recommendation, Decision, from what the rule found. */
export const sbardFor = (
  framework: Ruleset,
  item: { title: string; urgency: Urgency; findings: readonly string[]; recommendation: string; entry?: CareEntry; also?: readonly string[] },
  background?: string,
): Sbard => {
  const { entry } = item;
  const away = isRecordedAwayFromBedside(entry);
  const recorded = entry
    ? ` Recorded for ${entry.occurredAt}${entry.recordedBy ? ` by ${entry.recordedBy.id} (${entry.recordedBy.role})` : ''}: ${describeEntry(entry)}.`
    : '';
  return {
    situation: clip(`${item.title}.${recorded}`),
    background: clip(`${framework.title} (framework ${framework.id} v${framework.version}).${background ? ` ${background}` : ''}`),
    assessment: clip(`${item.findings.join('; ')}.${item.also?.length ? ` Also: ${item.also.join('; ')}.` : ''}`),
    recommendation: clip(item.recommendation),
    decision: clip(`${decisionRequested(framework, item.urgency, away)}${deadlineInWords(framework, item.urgency, away)}`),
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
  ...(escalation.recordedAwayFromBedside ? { recordedAwayFromBedside: true } : {}),
});
