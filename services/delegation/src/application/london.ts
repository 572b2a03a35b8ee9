/**
 * Times of day in an instruction ("18:00") are the person's local time in England. These turn a
 * date and a time of day into an instant, and an instant into England's date, whatever the
 * server's zone (BST and GMT included).
 */
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Minutes England is ahead of UTC at an instant (0 in winter, 60 in summer). */
const offsetMinutes = (instant: number): number => {
  const p = Object.fromEntries(parts.formatToParts(new Date(instant)).map((x) => [x.type, x.value]));
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((local - Math.floor(instant / 1000) * 1000) / 60_000);
};

/** The instant of a local time of day (HH:MM) on a date (YYYY-MM-DD) in England. */
export const englandInstant = (date: string, timeOfDay: string): string => {
  const asUtc = Date.parse(`${date}T${timeOfDay}:00Z`);
  const first = asUtc - offsetMinutes(asUtc) * 60_000;
  return new Date(asUtc - offsetMinutes(first) * 60_000).toISOString();
};

/** England's date (YYYY-MM-DD) at an instant. */
export const englandDate = (instant: Date): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
