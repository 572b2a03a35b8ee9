import { parseStreamName, type AccessRecordedData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { careStateFrom, isCareRecordEvent, patientStateFrom, type StoredCareEvent } from '@tandem/record';

/** An entry written this long after it happened is marked late (NMC Code 10.1). */
export const LATE_AFTER_MINUTES = 60;

const minutesLate = (e: RecordedEvent) => (Date.parse(e.metadata.recordedAt) - Date.parse(e.metadata.occurredAt)) / 60_000;

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * A delay as a person says it: "45 minutes", "3 hours 20 minutes", "20 days 15 hours". Reviewers
 * read "LATE: recorded 29700 min after" as noise; two units are as precise as a timeline needs.
 */
export const durationInWords = (minutes: number): string => {
  const total = Math.max(0, Math.round(minutes));
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const mins = total % 60;
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
  if (hours > 0) return mins > 0 ? `${plural(hours, 'hour')} ${plural(mins, 'minute')}` : plural(hours, 'hour');
  return plural(mins, 'minute');
};

/** One line of what an event says, in words a reviewer reads without the schema to hand. */
export const summarise = (e: RecordedEvent): string => {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'VitalSignsRecorded': {
      const news2 = d.news2 as { total: number | null; risk: string; missing: string[] };
      return news2.total === null ? `NEWS2 incomplete (missing ${news2.missing.join(', ')})` : `NEWS2 ${news2.total} (${news2.risk})`;
    }
    case 'BloodGlucoseRecorded':
      return `blood glucose ${String(d.glucoseMmolL)} mmol/L`;
    case 'InsulinAdministered': {
      const dose = d.dose as { value: number; unit: string };
      return `${String(d.product)} ${dose.value} ${dose.unit} given (${String(d.site)})`;
    }
    case 'InsulinWithheld':
      return `${String(d.product)} withheld: ${String(d.reason)}`;
    case 'EntryAmended':
      return `amended entry ${String(d.entryId)}: ${String(d.reason)}`;
    case 'EntryMarkedEnteredInError':
      return `entry ${String(d.entryId)} marked entered in error: ${String(d.reason)}`;
    case 'NoteWritten':
      return `note (${String(d.text).length} characters)`;
    case 'AccessRecorded': {
      const a = d as unknown as AccessRecordedData;
      const who = a.agent ? '' : 'unverified caller ';
      const people = a.patientIds.length ? ` about ${a.patientIds.map((p) => `Patient/${p}`).join(', ')}` : '';
      const glass = a.breakGlassReason ? ` BREAK-GLASS: ${a.breakGlassReason}` : '';
      return `${who}${a.method} ${a.path}${people} -> ${a.status} ${a.outcome}${a.reason ? ` (${a.reason})` : ''} from ${a.source.address}${glass}`;
    }
    default:
      return '';
  }
};

export interface Timeline {
  readonly lines: string[];
  readonly shown: RecordedEvent[];
}

/** The stream's story as known at `asOf` (by when each event was recorded, not when it happened). */
export const timeline = (stream: string, events: readonly RecordedEvent[], asOf?: Date): Timeline => {
  const shown = asOf ? events.filter((e) => Date.parse(e.metadata.recordedAt) <= asOf.getTime()) : [...events];
  const lines = [`${stream}: ${shown.length} of ${events.length} events${asOf ? ` as known at ${asOf.toISOString()}` : ''}`, ''];
  for (const e of shown) {
    const late = minutesLate(e) > LATE_AFTER_MINUTES ? `  LATE: recorded ${durationInWords(minutesLate(e))} after it happened` : '';
    const who = `${e.metadata.actor.id} (${e.metadata.actor.role})`;
    lines.push(`${e.metadata.occurredAt}  recorded ${e.metadata.recordedAt}  #${e.revision}  ${who}  ${e.type}  ${summarise(e)}${late}`);
  }
  lines.push('', ...stateAt(stream, shown));
  return { lines, shown };
};

const stateAt = (stream: string, events: readonly RecordedEvent[]): string[] => {
  const kind = parseStreamName(stream)?.kind;
  if (kind === 'care') {
    const state = careStateFrom(events.filter(isCareRecordEvent) as unknown as StoredCareEvent[]);
    const lastDoses = Object.values(state.lastInsulinDose).map((d) => `${d.product} ${d.dose.value} ${d.dose.unit} at ${d.occurredAt}`);
    return [
      'State then:',
      `  entries: ${Object.keys(state.entries).length} (${Object.keys(state.enteredInError).length} entered in error)`,
      `  last insulin doses: ${lastDoses.join('; ') || 'none'}`,
      `  recent blood glucose (mmol/L): ${state.recentGlucose.map((g) => g.glucoseMmolL).join(', ') || 'none'}`,
    ];
  }
  if (kind === 'patient') {
    const state = patientStateFrom(events as never);
    return state.registered
      ? ['State then:', `  ${state.name.given.join(' ')} ${state.name.family}, NHS ${state.nhsNumber}`, `  care team: ${state.careTeam.map((m) => `${m.practitionerId} (${m.teamRole})`).join(', ')}`]
      : ['State then: not registered'];
  }
  return [`State then: ${events.length} events`];
};
