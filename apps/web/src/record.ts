import { request } from './api';
import { SignedOut } from './day';
import { cache } from './store';

/**
 * What she may need to read about a person with no signal: their latest observations and insulin
 * doses, from Tandem's FHIR API, kept in IndexedDB whenever her day is read with signal. Read from
 * the phone it says so, with the time it was read (never passed off as current).
 */
export interface RecordLine {
  readonly what: string;
  readonly value: string;
  readonly at?: string;
  readonly status?: string;
}

export interface PersonRecord {
  readonly lines: readonly RecordLine[];
}

type Coded = { text?: string; coding?: { display?: string; code?: string }[] };
type Quantity = { value?: number; unit?: string };
type Component = { code?: Coded; valueQuantity?: Quantity; valueString?: string; valueInteger?: number; valueBoolean?: boolean; valueDateTime?: string };

const textOf = (code: Coded | undefined, fallback: string) => code?.text ?? code?.coding?.find((c) => c.display)?.display ?? fallback;
const quantityOf = (q: Quantity | undefined) => (q && typeof q.value === 'number' ? `${q.value}${q.unit ? ` ${q.unit}` : ''}` : undefined);

/** One line's value: its own value, or what its parts say (a yes/no list shows the yes answers only). */
const valueOf = (o: Component & { component?: Component[] }): string => {
  const own = quantityOf(o.valueQuantity) ?? o.valueString ?? (typeof o.valueInteger === 'number' ? String(o.valueInteger) : undefined) ?? (typeof o.valueBoolean === 'boolean' ? (o.valueBoolean ? 'Yes' : 'No') : undefined);
  const parts = (o.component ?? []).flatMap((c) => {
    const what = textOf(c.code, 'Part');
    if (typeof c.valueBoolean === 'boolean') return c.valueBoolean ? [what] : [];
    const value = quantityOf(c.valueQuantity) ?? c.valueString ?? (typeof c.valueInteger === 'number' ? String(c.valueInteger) : undefined) ?? c.valueDateTime;
    return value === undefined ? [] : [`${what}: ${value}`];
  });
  if (own !== undefined) return parts.length ? `${own} (${parts.join('; ')})` : own;
  if (parts.length) return parts.join('; ');
  return (o.component ?? []).length ? 'None of the signs asked about' : 'Recorded';
};

const entries = (bundle: Record<string, unknown>): Record<string, unknown>[] =>
  (Array.isArray(bundle.entry) ? (bundle.entry as { resource?: Record<string, unknown> }[]) : []).map((e) => e.resource).filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);

export const recordLinesOf = (observations: Record<string, unknown>, doses: Record<string, unknown>): RecordLine[] => {
  const lines: RecordLine[] = [];
  for (const o of entries(observations)) {
    if (o.resourceType !== 'Observation') continue;
    // A panel (the vital signs set) only groups its members, which are listed themselves.
    if (Array.isArray(o.hasMember) && o.valueQuantity === undefined && !Array.isArray(o.component)) continue;
    lines.push({
      what: textOf(o.code as Coded | undefined, 'Observation'),
      value: valueOf(o as Component & { component?: Component[] }),
      ...(typeof o.effectiveDateTime === 'string' ? { at: o.effectiveDateTime } : {}),
      ...(typeof o.status === 'string' ? { status: o.status } : {}),
    });
  }
  for (const d of entries(doses)) {
    if (d.resourceType !== 'MedicationAdministration') continue;
    const dosage = d.dosage as { text?: string; dose?: Quantity } | undefined;
    lines.push({
      what: `Insulin: ${textOf(d.medicationCodeableConcept as Coded | undefined, 'insulin')}`,
      value: d.status === 'not-done' ? `Not given${quantityOf(dosage?.dose) ? ` (planned ${quantityOf(dosage?.dose)})` : ''}` : (quantityOf(dosage?.dose) ?? dosage?.text ?? 'Given'),
      ...(typeof d.effectiveDateTime === 'string' ? { at: d.effectiveDateTime } : {}),
      ...(typeof d.status === 'string' ? { status: d.status } : {}),
    });
  }
  return lines.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
};

const cacheIdOf = (me: string, patientId: string) => `record:${me}:${patientId}`;

export const fetchRecord = async (token: string, me: string, patientId: string): Promise<{ record: PersonRecord; fetchedAt: string; fromPhone: boolean }> => {
  const cacheId = cacheIdOf(me, patientId);
  try {
    const get = async (path: string) => {
      const response = await request(path, token);
      if (response.status === 401) throw new SignedOut();
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const id = encodeURIComponent(patientId);
    const observations = await get(`/fhir/Observation?patient=${id}&_sort=-date&_count=30`);
    const doses = await get(`/fhir/MedicationAdministration?patient=${id}&_sort=-date&_count=10`);
    const record: PersonRecord = { lines: recordLinesOf(observations, doses) };
    const fetchedAt = new Date().toISOString();
    await cache.put({ id: cacheId, fetchedAt, data: record });
    return { record, fetchedAt, fromPhone: false };
  } catch (error) {
    const kept = await cache.get(cacheId);
    if (!kept) throw error;
    return { record: kept.data as PersonRecord, fetchedAt: kept.fetchedAt, fromPhone: true };
  }
};

const FRESH_FOR_MS = 5 * 60_000;
const freshIdOf = (me: string, patientId: string) => `record-fresh:${me}:${patientId}`;

/** After she saves an entry for a person, their copy on the phone is read again at the next chance. */
export const recordChanged = (me: string, patientId: string) => cache.remove(freshIdOf(me, patientId));

/**
 * With signal, keeps each of her people's records on the phone: one request at a time, and a
 * person's copy not read again within five minutes unless she has recorded something for them
 * (so a busy record is not asked the same thing on every page she opens).
 */
export const keepRecords = async (token: string, me: string, patientIds: readonly string[]): Promise<void> => {
  for (const patientId of patientIds) {
    const fresh = await cache.get(freshIdOf(me, patientId));
    if (fresh && Date.now() - Date.parse(fresh.fetchedAt) < FRESH_FOR_MS) continue;
    try {
      const { fromPhone, fetchedAt } = await fetchRecord(token, me, patientId);
      if (fromPhone) return; // no signal after all: try again next time
      await cache.put({ id: freshIdOf(me, patientId), fetchedAt, data: null });
    } catch {
      return; // no copy and no signal: the next reading of her day tries again
    }
  }
};
