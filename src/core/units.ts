/**
 * Parsing of the human units the config file uses: sizes (`16MiB`, `512KB`, `1048576`),
 * rates (`2MiB/s`, `unlimited`) and durations (`60s`, `5m`, `1h30m`, `7d`, `250ms`).
 * Each parser returns undefined for input it does not understand; the config schema turns that
 * into an error that names the field.
 */

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!match) return undefined;
  const factor = SIZE_UNITS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const value = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Bytes per second: `Infinity` for `unlimited` or `off`, 0 for `0` (DESIGN: a limit of 0 pauses). */
export function parseRate(input: string | number): number | undefined {
  if (typeof input === 'number') return parseSize(input);
  const text = input.trim().toLowerCase();
  if (text === 'unlimited' || text === 'off') return Infinity;
  const perSecond = text.endsWith('/s') ? text.slice(0, -2) : text;
  return parseSize(perSecond);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Milliseconds. A bare number means seconds. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : undefined;
  const text = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    if (match.index !== consumed) return undefined;
    total += Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? NaN);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

const EXACT_SIZE_UNITS: readonly [string, number][] = [
  ['TiB', 1024 ** 4],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];
const EXACT_DURATION_UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** A number in the largest unit that divides it exactly: 16777216 → 16MiB, 900000 → 15m. */
function inExactUnits(value: number, units: readonly [string, number][], base: string): string {
  for (const [name, factor] of units) if (value !== 0 && value % factor === 0) return `${value / factor}${name}`;
  return `${value}${base}`;
}

/** A size as the config writes it, exactly (parseSize reads it back): `16MiB`, `1000`. */
export function sizeInConfigUnits(bytes: number): string {
  return inExactUnits(bytes, EXACT_SIZE_UNITS, '');
}

/** A duration as the config writes it, exactly (parseDuration reads it back): `15m`, `250ms`. */
export function durationInConfigUnits(ms: number): string {
  return inExactUnits(ms, EXACT_DURATION_UNITS, 'ms');
}

/** A rate as the config writes it: `2MiB/s`, `unlimited`. */
export function rateInConfigUnits(bytesPerSecond: number): string {
  return Number.isFinite(bytesPerSecond) ? `${sizeInConfigUnits(bytesPerSecond)}/s` : 'unlimited';
}

/** `1 object`, `2 objects`: a count with its noun, singular for one. */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}
