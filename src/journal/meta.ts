/** Named values and counters in agent_meta (a retention policy, objects deleted from the edge, ...). */
import type { LandingReason } from '../core/object-state.js';
import type { Db } from '../db/open-database.js';

/** The agent_meta counter of landings made for `reason` (core/object-state.ts). */
export function relandingCounter(reason: LandingReason): string {
  return `relandings_${reason}`;
}

export interface MetaStore {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** Adds `n` to a counter (created at 0). */
  add(name: string, n: number): void;
  counter(name: string): number;
}

export function createMetaStore(db: Db): MetaStore {
  const sql = {
    get: db.prepare<[string], { value: string }>('SELECT value FROM agent_meta WHERE name = ?'),
    set: db.prepare<[string, string]>('INSERT OR REPLACE INTO agent_meta (name, value) VALUES (?, ?)'),
    add: db.prepare<[{ name: string; n: number }]>(
      `INSERT INTO agent_meta (name, value) VALUES (@name, @n)
       ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value`,
    ),
  };
  return {
    get: (name) => sql.get.get(name)?.value,
    set: (name, value) => void sql.set.run(name, value),
    add: (name, n) => void sql.add.run({ name, n }),
    counter: (name) => Number(sql.get.get(name)?.value ?? 0),
  };
}
