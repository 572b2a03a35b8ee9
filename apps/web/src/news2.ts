/**
 * NEWS2 on the phone is the record's own scoring (contracts/src/care/news2.ts), imported,
 * not copied: the score she sees as she types is the one the server stores (hazard H40).
 */
import { scoreNews2 } from '@tandem/contracts';
import type { News2Result, VitalSignsMeasurements } from '@tandem/contracts';

export { scoreNews2 };
export type { News2Result, VitalSignsMeasurements };

export type Band = News2Result['risk'];

/** Plain words for each band (docs/clinical/reference.md section 5), and the NHS.UK tag colour. */
export const BAND: Readonly<Record<Band, { words: string; tag: string }>> = {
  incomplete: { words: 'incomplete', tag: 'nhsuk-tag--grey' },
  low: { words: 'low risk', tag: 'nhsuk-tag--green' },
  'low-medium': { words: 'low to medium risk: a 3 in one parameter, urgent review', tag: 'nhsuk-tag--yellow' },
  medium: { words: 'medium risk: urgent response', tag: 'nhsuk-tag--orange' },
  high: { words: 'high risk: emergency response', tag: 'nhsuk-tag--red' },
};

export const PARAMETER_WORDS: Readonly<Record<News2Result['missing'][number], string>> = {
  respirationRate: 'breathing rate',
  spo2: 'oxygen saturation',
  airOrOxygen: 'air or oxygen',
  systolic: 'systolic blood pressure',
  pulse: 'pulse',
  consciousness: 'consciousness',
  temperatureC: 'temperature',
};

/** The bedside advice for a NEWS2, from the record's own pure rules (what the server answers with). */
export { news2Advice } from '@tandem/contracts';
