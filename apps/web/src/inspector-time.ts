import { englandDate, englandInstant, englandTimeOfDay } from '@tandem/contracts';

/**
 * The inspector's moments, always in England's time with its offset said (H115): a replay asked
 * for "12:00" must be England's noon, and she must be able to see which clock a time is on
 * (GMT in winter, BST in summer). The conversions are the contracts' England clock (one home).
 * docs/decisions/0036-inspector-app.md
 */

/** Minutes England is ahead of UTC at an instant (0 in winter, 60 in summer). */
export const englandOffsetMinutes = (iso: string): number => {
  const at = new Date(iso);
  const wall = Date.parse(`${englandDate(at)}T${englandTimeOfDay(at)}:00Z`);
  return Math.round((wall - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
};

/** "GMT (UTC+00:00)" or "BST (UTC+01:00)": the zone an England time is on. */
export const zoneWords = (iso: string): string => {
  const offset = englandOffsetMinutes(iso);
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${offset === 0 ? 'GMT' : 'BST'} (UTC${offset < 0 ? '-' : '+'}${hours}:${minutes})`;
};

const longDay = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const monthName = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' });

/** "Tuesday 1 December 2026, 12:00 GMT (UTC+00:00)". */
export const englandWhen = (iso: string): string => {
  const p = Object.fromEntries(longDay.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${englandTimeOfDay(new Date(iso))} ${zoneWords(iso)}`;
};

/** The value of a `datetime-local` field ("2026-12-01T12:00") for an instant, on England's clock. */
export const englandFieldValue = (iso: string): string => `${englandDate(new Date(iso))}T${englandTimeOfDay(new Date(iso))}`;

const FIELD = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** A `datetime-local` value read as England's wall clock: the instant, or undefined when it is no real date and time. */
export const instantOfEnglandField = (value: string): string | undefined => {
  const m = FIELD.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59) return undefined;
  return englandInstant(value.slice(0, 10), value.slice(11, 16));
};

/** A month as the indicators API names it (YYYY-MM), checked. */
export const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** England's month now. */
export const englandMonth = (now: Date): string => englandDate(now).slice(0, 7);

/** The month `n` months before `month` (n may be negative). */
export const monthBefore = (month: string, n: number): string => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 - n, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

/** "December 2026". */
export const monthWords = (month: string): string => monthName.format(new Date(`${month}-01T00:00:00Z`));

/** The first instant of an England month, and the first of the next. */
export const monthBounds = (month: string): { start: string; end: string } => ({ start: englandInstant(`${month}-01`, '00:00'), end: englandInstant(`${monthBefore(month, -1)}-01`, '00:00') });
