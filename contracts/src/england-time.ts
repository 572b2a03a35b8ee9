/**
 * England's clock, the one home for it: an order's "18:00", a visit's day and a dose's day are the
 * person's local time in England (BST and GMT), whatever zone the server runs in.
 *
 * Formatters are made once: making an Intl.DateTimeFormat costs about as much as a thousand uses of
 * one, and the scheduler and the rules ask these questions for every dose of every order.
 */
const ZONE = 'Europe/London';
const dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const partsFormat = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** England's date (YYYY-MM-DD) at an instant. */
export const englandDate = (instant: Date | number): string => dateFormat.format(instant);

/** England's time of day ("HH:MM", 24-hour) at an instant. */
export const englandTimeOfDay = (instant: Date | number): string => timeFormat.format(instant);

/** Minutes since midnight in England at an instant. */
export const englandMinutesOfDay = (instant: Date | number): number => {
  const hhmm = englandTimeOfDay(instant);
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
};

/** Minutes England is ahead of UTC at an instant (0 in winter, 60 in summer). */
const offsetMinutes = (instant: number): number => {
  const p = Object.fromEntries(partsFormat.formatToParts(new Date(instant)).map((x) => [x.type, x.value]));
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((local - Math.floor(instant / 1000) * 1000) / 60_000);
};

// A day has few times on any chart: the answers are kept (a bounded cache, emptied when full).
const instants = new Map<string, string>();
const MAX_KEPT = 50_000;

/**
 * The instant (ISO, UTC) of a time of day (HH:MM) on a date (YYYY-MM-DD) in England. A time the
 * clocks skip in spring comes out an hour on; one they repeat in autumn is the second of the two (GMT).
 */
export const englandInstant = (date: string, timeOfDay: string): string => {
  const key = `${date}T${timeOfDay}`;
  const kept = instants.get(key);
  if (kept !== undefined) return kept;
  const asUtc = Date.parse(`${key}:00Z`);
  const first = asUtc - offsetMinutes(asUtc) * 60_000;
  const instant = new Date(asUtc - offsetMinutes(first) * 60_000).toISOString();
  if (instants.size >= MAX_KEPT) instants.clear();
  instants.set(key, instant);
  return instant;
};
