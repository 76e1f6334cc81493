// Days chosen in date inputs (YYYY-MM-DD, UTC) and the half-open windows of instants the APIs take for them.

/** The UTC day of a time, as a date input holds it. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The UTC day `days` days before now. */
export function daysAgo(days: number): string {
  return isoDay(new Date(Date.now() - days * 86_400_000));
}

/** From the first day's start to the start of the day after the last (UTC): [from, to) covering both days. */
export function dayWindow(from: string, to: string): { from: string; to: string } {
  const end = new Date(`${to}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  return { from: `${from}T00:00:00Z`, to: end.toISOString() };
}
