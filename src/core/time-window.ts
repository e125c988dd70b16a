/**
 * Time windows of local time, as `bandwidth[].window` writes them: "Mon-Fri 08:00-18:00",
 * "Sat,Sun", "22:00-06:00" (across midnight), "Fri-Mon 20:00-24:00". Day names are the first three
 * letters, in any case; a day range may wrap around the week (Fri-Mon). A window that crosses
 * midnight starts on the days it names and runs on into the next morning.
 */

export interface TimeWindow {
  /** Days the window starts on, Sunday = 0 (as Date#getDay). */
  readonly days: readonly boolean[];
  /** Minutes after midnight; `end` may be 1440 (24:00). start === end never happens. */
  readonly startMinute: number;
  readonly endMinute: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const MINUTES_PER_DAY = 24 * 60;

function dayIndex(name: string): number | undefined {
  const index = DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
  return index < 0 ? undefined : index;
}

function parseDays(text: string): boolean[] | string {
  const days: boolean[] = Array.from({ length: 7 }, () => false);
  for (const part of text.split(',').map((p) => p.trim())) {
    const [from, to, extra] = part.split('-');
    const first = from === undefined ? undefined : dayIndex(from);
    const last = to === undefined ? first : dayIndex(to);
    if (first === undefined || last === undefined || extra !== undefined) {
      return `"${part}" is not a day or a day range such as Mon-Fri (days: ${DAY_NAMES.map((d) => d[0]!.toUpperCase() + d.slice(1)).join(', ')})`;
    }
    for (let day = first; ; day = (day + 1) % 7) {
      days[day] = true;
      if (day === last) break;
    }
  }
  return days;
}

function parseTime(text: string, allowMidnightEnd: boolean): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (allowMidnightEnd && hours === 24 && minutes === 0) return MINUTES_PER_DAY;
  return hours < 24 && minutes < 60 ? hours * 60 + minutes : undefined;
}

function parseHours(text: string): { startMinute: number; endMinute: number } | string {
  const [from, to, extra] = text.split('-');
  const start = from === undefined ? undefined : parseTime(from, false);
  const end = to === undefined ? undefined : parseTime(to, true);
  if (start === undefined || end === undefined || extra !== undefined) {
    return `"${text}" is not a time range such as 08:00-18:00 (hours 00-23, minutes 00-59, 24:00 as an end)`;
  }
  if (start === end) return `"${text}" starts where it ends: for all day, leave the hours out`;
  return { startMinute: start, endMinute: end };
}

/** The window `text` describes, or a message saying what is wrong with it. */
export function parseTimeWindow(text: string): TimeWindow | string {
  const parts = text
    .trim()
    .replace(/\s*,\s*/g, ',')
    .split(/\s+/);
  if (parts.length === 0 || parts[0] === '' || parts.length > 2) {
    return 'expected days, hours or both, such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00"';
  }
  const allDays = Array.from({ length: 7 }, () => true);
  if (parts.length === 1) {
    const only = parts[0]!;
    if (/\d/.test(only)) {
      const hours = parseHours(only);
      return typeof hours === 'string' ? hours : { days: allDays, ...hours };
    }
    const days = parseDays(only);
    return typeof days === 'string' ? days : { days, startMinute: 0, endMinute: MINUTES_PER_DAY };
  }
  const days = parseDays(parts[0]!);
  if (typeof days === 'string') return days;
  const hours = parseHours(parts[1]!);
  return typeof hours === 'string' ? hours : { days, ...hours };
}

/** Whether `at` (local time) falls in the window. */
export function inTimeWindow(window: TimeWindow, at: Date): boolean {
  const minute = at.getHours() * 60 + at.getMinutes();
  const today = at.getDay();
  if (window.startMinute < window.endMinute) {
    return window.days[today] === true && minute >= window.startMinute && minute < window.endMinute;
  }
  // Across midnight: the evening part on a listed day, the morning part on the day after one.
  if (minute >= window.startMinute) return window.days[today] === true;
  return minute < window.endMinute && window.days[(today + 6) % 7] === true;
}
