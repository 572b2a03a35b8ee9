import { CORRECTABLE_ENTRY_TYPES } from './corrections';
import { HYPOGLYCAEMIA_BELOW_MMOL_L, hypoProtocolSteps } from './hypoglycaemia';
import { NEWS2_PARAMETER_WORDS, type News2Parameter, type News2Result } from './observations';
import type { BedsideAdvice, News2Reply } from './replies';

/**
 * What to do at the bedside after an entry, in plain words (docs/clinical/reference.md sections 2,
 * 3, 4, 5 and 6). Pure: it reads only the events the entry recorded, so the JSON answer, a replay
 * and a test say the same. The NEWS2 it reports is the one stored with the entry (scoreNews2, the
 * one scoring function): never scored again here.
 *
 * The rules that raise prompts and escalations live in the delegation service; this is what the
 * person at the bedside reads at once, before anyone else has been told.
 */

export interface BedsideAnswer {
  /** Vital signs only. */
  readonly news2?: News2Reply;
  /** Most urgent first; empty when the entry calls for nothing. */
  readonly advice: BedsideAdvice[];
}

export const CALL_999 = 'Call 999 now';

/**
 * The entry kinds that can start a rule: every correctable entry but a note (no rule reads notes),
 * and an amendment of one; an entered-in-error mark starts none. Only these wait for follow-ups.
 */
export const CAN_START_A_RULE: ReadonlySet<string> = new Set<string>([...CORRECTABLE_ENTRY_TYPES.filter((type) => type !== 'NoteWritten'), 'EntryAmended']);

const RCP = 'NEWS2 (Royal College of Physicians, 2017)';

const list = (items: readonly string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

/** The RCP clinical response to a NEWS2, for a care worker in a person's home or care home. */
export const news2Advice = (news2: News2Result): BedsideAdvice[] => {
  const advice: BedsideAdvice[] = [];
  const threes = (Object.entries(news2.subScores) as [News2Parameter, number | null][]).filter(([, s]) => s === 3).map(([p]) => NEWS2_PARAMETER_WORDS[p]);
  const score = news2.total ?? news2.partialTotal;
  const atLeast = news2.total === null ? 'at least ' : '';
  const band = news2.total === null ? news2.riskAtLeast : news2.risk;
  if (band === 'high') {
    advice.push({
      urgency: 'emergency',
      text: `${CALL_999}: NEWS2 ${atLeast}${score} is high clinical risk (an emergency). Stay with the person, keep them comfortable and keep observing; then tell their nurse.`,
      basis: `${RCP}: 7 or more, emergency response`,
    });
  } else if (band === 'medium') {
    advice.push({
      urgency: 'urgent',
      text: `Urgent response: NEWS2 ${atLeast}${score} is medium clinical risk. Call the person's GP or district nurse now (NHS 111 out of hours) and give them the score; repeat the observations at least every hour.`,
      basis: `${RCP}: 5 or 6, urgent response`,
    });
  } else if (band === 'low-medium') {
    advice.push({
      urgency: 'urgent',
      text: `Urgent clinical review: ${list(threes)} scored 3. Call the person's GP or district nurse now to review them; repeat the observations at least every hour.`,
      basis: `${RCP}: a score of 3 in any single parameter, urgent review`,
    });
  } else if (news2.total !== null && score >= 1) {
    advice.push({
      urgency: 'soon',
      text: `Low clinical risk: NEWS2 ${score}. Tell the registered nurse, who decides whether the person needs assessing; repeat the observations every 4 to 6 hours.`,
      basis: `${RCP}: 1 to 4, low`,
    });
  } else if (news2.total === 0) {
    advice.push({ urgency: 'routine', text: 'NEWS2 0: carry on with routine observations (at least every 12 hours).', basis: `${RCP}: 0` });
  }
  if (news2.total === null) {
    advice.push({
      urgency: 'soon',
      text: `NEWS2 incomplete: ${list(news2.missing.map((p) => NEWS2_PARAMETER_WORDS[p]))} not measured. Measure ${news2.missing.length === 1 ? 'it' : 'them'} to score; an incomplete NEWS2 is never a low one.`,
      basis: `${RCP}: every parameter is needed for a score`,
    });
  }
  return advice;
};

interface Vitals {
  readonly respirationRate?: number;
  readonly pulse?: number;
  readonly systolic?: number;
  readonly consciousness?: string;
}

/** NICE NG51 red flags a set of vital signs can show (the others need more than vital signs). */
const sepsisRedFlags = (v: Vitals): string[] => [
  ...(v.consciousness !== undefined && v.consciousness !== 'A' ? ['new altered mental state'] : []),
  ...(v.respirationRate !== undefined && v.respirationRate >= 25 ? [`respiration ${v.respirationRate} /min`] : []),
  ...(v.pulse !== undefined && v.pulse > 130 ? [`pulse ${v.pulse} /min`] : []),
  ...(v.systolic !== undefined && v.systolic <= 90 ? [`systolic ${v.systolic} mmHg`] : []),
];

const vitalSignsAdvice = (data: Vitals & { news2: News2Result }): BedsideAdvice[] => {
  const advice = news2Advice(data.news2);
  const flags = sepsisRedFlags(data);
  if (flags.length > 0 && !advice.some((a) => a.urgency === 'emergency')) {
    advice.push({
      urgency: 'urgent',
      text: `Sepsis red flag (${list(flags)}): if the person could have an infection, ${CALL_999.toLowerCase()} and say "sepsis".`,
      basis: 'NICE NG51 high-risk criteria',
    });
  }
  return advice;
};

const glucoseAdvice = (data: { glucoseMmolL: number; ketonesMmolL?: number }): BedsideAdvice[] => {
  const advice: BedsideAdvice[] = [];
  if (data.glucoseMmolL < HYPOGLYCAEMIA_BELOW_MMOL_L) {
    advice.push({
      urgency: 'urgent',
      text:
        `Hypo: blood glucose ${data.glucoseMmolL} mmol/L is below 4.0. Treat it now. ${hypoProtocolSteps('10 to 15').join(' ')} ` +
        'Do not give insulin while the blood glucose is below 4.',
      basis: 'JBDS-01 hypoglycaemia ("4 is the floor")',
    });
  } else if (data.glucoseMmolL >= 15) {
    advice.push({
      urgency: 'soon',
      text: `High blood glucose: ${data.glucoseMmolL} mmol/L. Check it again at the next check; two readings of 15 or more in a row go to the nurse.`,
      basis: 'Local hyperglycaemia policy (default: 15 mmol/L twice)',
    });
  }
  if (data.ketonesMmolL !== undefined && data.ketonesMmolL >= 1.5) {
    advice.unshift({
      urgency: 'urgent',
      text: `Blood ketones ${data.ketonesMmolL} mmol/L (1.5 or more): tell the nurse or GP now; if the person is vomiting, drowsy or breathing fast, ${CALL_999.toLowerCase()}.`,
      basis: 'Local hyperglycaemia policy (ketones 1.5 mmol/L or more)',
    });
  }
  return advice;
};

const EMERGENCY_WORDS: Record<string, string> = { chestPain: 'chest pain', strokeSigns: 'signs of a stroke', prolongedSeizure: 'a prolonged seizure', unresponsive: 'unresponsive' };
const SOFT_SIGN_WORDS: Record<string, string> = {
  newConfusion: 'new confusion',
  reducedEatingOrDrinking: 'eating or drinking less',
  breathlessness: 'breathlessness',
  unsteadiness: 'unsteadiness',
  distress: 'distress',
  withdrawal: 'withdrawal',
  tiredness: 'tiredness',
};
const trueOf = (signs: Record<string, boolean>, words: Record<string, string>): string[] =>
  Object.entries(signs)
    .filter(([, v]) => v)
    .map(([k]) => words[k] ?? k);

const softSignsAdvice = (data: { softSigns: Record<string, boolean>; emergencySigns: Record<string, boolean> }): BedsideAdvice[] => {
  const advice: BedsideAdvice[] = [];
  const emergencies = trueOf(data.emergencySigns, EMERGENCY_WORDS);
  if (emergencies.length > 0) {
    advice.push({ urgency: 'emergency', text: `${CALL_999}: ${list(emergencies)}. Do not wait for a score.`, basis: 'RESTORE2: emergencies go to 999 at once' });
  }
  const soft = trueOf(data.softSigns, SOFT_SIGN_WORDS);
  if (soft.length > 0) {
    advice.push({
      urgency: 'soon',
      text: `Soft signs against the person's usual self (${list(soft)}): take a full set of observations now for a NEWS2, and tell the nurse or GP.`,
      basis: 'RESTORE2: recognise soft signs, take observations, respond, escalate',
    });
  }
  return advice;
};

const SEPSIS_SIGN_WORDS: Record<string, string> = { kidneyPain: 'kidney pain', newMyalgia: 'new muscle aches', nauseaOrVomiting: 'nausea or vomiting', rigors: 'rigors (shaking chills)' };

const urinaryAdvice = (data: { signs: Record<string, boolean>; sepsisSigns: Record<string, boolean> }): BedsideAdvice[] => {
  const advice: BedsideAdvice[] = [];
  const sepsis = trueOf(data.sepsisSigns, SEPSIS_SIGN_WORDS);
  if (sepsis.length > 0) {
    advice.push({
      urgency: 'urgent',
      text: `Possible sepsis or kidney infection (${list(sepsis)}): call the GP or NHS 111 now for an urgent assessment; if the person is very unwell, ${CALL_999.toLowerCase()}.`,
      basis: 'UKHSA: urinary tract infection in people aged 65 and over',
    });
  }
  const signs = Object.entries(data.signs).filter(([, v]) => v).map(([k]) => k);
  if (signs.includes('newDysuria') || signs.length >= 2) {
    advice.push({
      urgency: 'soon',
      text: 'A urinary infection is likely: tell the GP or nurse today, encourage drinks (6 to 8 cups a day), and do not use a urine dipstick.',
      basis: 'UKHSA: urinary tract infection in people aged 65 and over',
    });
  }
  return advice;
};

const cellulitisAdvice = (data: { rednessBeyondMarkedLine: boolean; temperatureC?: number }): BedsideAdvice[] => {
  const advice: BedsideAdvice[] = [];
  if (data.temperatureC !== undefined && data.temperatureC >= 38) {
    advice.push({
      urgency: 'urgent',
      text: `Temperature ${data.temperatureC} C with cellulitis: tell the nurse or GP now and take a full set of observations; if the person seems very unwell, ${CALL_999.toLowerCase()}.`,
      basis: 'NICE NG141: systemically unwell',
    });
  }
  if (data.rednessBeyondMarkedLine) {
    advice.push({
      urgency: 'urgent',
      text: 'Redness has spread beyond the marked line: tell the nurse or GP today (at once if it is spreading fast or the person is unwell).',
      basis: 'NICE NG141: reassess when redness spreads beyond the marked border',
    });
  }
  return advice;
};

const ORDER = { emergency: 0, urgent: 1, soon: 2, routine: 3 } as const;

/** The advice for what one command recorded (the entry first, then any flag appended with it). */
export const bedsideAnswer = (events: readonly { type: string; data: unknown }[]): BedsideAnswer => {
  const advice: BedsideAdvice[] = [];
  let news2: News2Reply | undefined;
  for (const event of events) {
    const amended = event.type === 'EntryAmended' ? (event.data as { replacement: { type: string; data: unknown } }).replacement : undefined;
    const type = amended?.type ?? event.type;
    const data = (amended?.data ?? event.data) as never;
    switch (type) {
      case 'VitalSignsRecorded': {
        const result = (data as { news2: News2Result }).news2;
        news2 = { ...result, band: result.risk };
        advice.push(...vitalSignsAdvice(data));
        break;
      }
      case 'BloodGlucoseRecorded':
        advice.push(...glucoseAdvice(data));
        break;
      case 'SoftSignsRecorded':
        advice.push(...softSignsAdvice(data));
        break;
      case 'UrinarySymptomsScreened':
        advice.push(...urinaryAdvice(data));
        break;
      case 'CellulitisChecked':
        advice.push(...cellulitisAdvice(data));
        break;
      case 'DoseInsideMinimumIntervalFlagged': {
        const d = data as { minutesApart: number; minimumIntervalMinutes: number };
        advice.push({
          urgency: 'urgent',
          text: `Two doses ${Math.round(d.minutesApart)} minutes apart (minimum interval ${d.minimumIntervalMinutes} minutes): tell the delegating nurse now, and check blood glucose for a hypo.`,
          basis: 'The person\'s insulin instruction: minimum interval between doses',
        });
        break;
      }
      case 'DoseOutsideInstructionFlagged': {
        const d = data as { delegationId: string; differences: { field: string; instructed: string; given: string }[] };
        advice.push({
          urgency: 'urgent',
          text: `Given differently from the instruction (${d.differences.map((x) => `${x.given} where it says ${x.instructed}`).join('; ')}): tell the delegating nurse now, and check blood glucose for a hypo.`,
          basis: `The instruction of delegation ${d.delegationId}`,
        });
        break;
      }
      case 'UnknownInsulinProductFlagged':
        advice.push({
          urgency: 'urgent',
          text: 'Recorded with an insulin the record does not know: the delegating nurse is told (an incident). Check the pen against the Insulin Passport and the instruction now.',
          basis: 'Insulin is identified by product (docs/decisions/0013-coded-insulin.md)',
        });
        break;
      default:
        break;
    }
  }
  advice.sort((a, b) => ORDER[a.urgency] - ORDER[b.urgency]);
  return news2 ? { news2, advice } : { advice };
};
