/**
 * The effective config written back the way a config file writes it: sizes, durations and rates
 * in exact units (`16MiB`, `15m`, `2MiB/s`), a retention period that never expires as `never`.
 * Which fields carry units is read from the schema (its `valueKinds` registry), so a field added
 * later is covered without being listed here. `config check` prints this; fed back, it parses to
 * the same config.
 */
import type { z } from 'zod';

import { durationInConfigUnits, rateInConfigUnits, sizeInConfigUnits } from '../core/units.js';
import { configSchema, valueKinds, type Config, type ValueKind } from './schema.js';

/** The parts of a zod 4 definition that walks of the config schema read (here, and the doc generator). */
export interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, z.core.$ZodType>;
  readonly element?: z.core.$ZodType;
  readonly options?: readonly z.core.$ZodType[];
  readonly innerType?: z.core.$ZodType;
  readonly out?: z.core.$ZodType;
  readonly defaultValue?: unknown;
  readonly entries?: Record<string, string | number>;
}

export const defOf = (schema: z.core.$ZodType): SchemaDef => schema._zod.def;
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The schema under optional/default/prefault/preprocess wrappers, or the unit it carries. */
function unwrap(outer: z.core.$ZodType): { schema: z.core.$ZodType; kind: ValueKind | undefined } {
  let schema = outer;
  for (;;) {
    const kind = valueKinds.get(schema)?.kind;
    if (kind !== undefined) return { schema, kind };
    const def = defOf(schema);
    if (WRAPPERS.has(def.type) && def.innerType !== undefined) schema = def.innerType;
    else if (def.type === 'pipe' && def.out !== undefined) schema = def.out;
    else return { schema, kind: undefined };
  }
}

function inUnits(kind: ValueKind, value: unknown): unknown {
  if (value === null && kind === 'duration') return 'never';
  if (typeof value !== 'number') return value;
  if (kind === 'size') return sizeInConfigUnits(value);
  if (kind === 'duration') return durationInConfigUnits(value);
  if (kind === 'rate') return rateInConfigUnits(value);
  return value;
}

function render(outer: z.core.$ZodType, value: unknown): unknown {
  const { schema, kind } = unwrap(outer);
  if (kind !== undefined) return inUnits(kind, value);
  const def = defOf(schema);
  if (def.type === 'object' && def.shape !== undefined && isRecord(value)) {
    const shape = def.shape;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, shape[key] === undefined ? item : render(shape[key], item)]),
    );
  }
  if (def.type === 'array' && def.element !== undefined && Array.isArray(value)) return value.map((item) => render(def.element!, item));
  if (def.type === 'union' && isRecord(value)) {
    const mapping = (def.options ?? []).find((option) => defOf(unwrap(option).schema).type === 'object');
    if (mapping !== undefined) return render(mapping, value);
  }
  return value;
}

export function inConfigUnits(config: Config): unknown {
  return render(configSchema, config);
}
