/**
 * Rules decide, per object, its priority class and whether it is excluded. First match wins;
 * an object no rule matches replicates as `normal`.
 */
import { PRIORITY_RANK, type PriorityName } from './object-state.js';

export interface RuleMatch {
  readonly bucket?: string | undefined;
  readonly prefix?: string | undefined;
  readonly suffix?: string | undefined;
}

export interface Rule {
  readonly match: RuleMatch;
  readonly priority?: PriorityName | undefined;
  readonly exclude?: boolean | undefined;
  readonly compress?: string | undefined;
  /** Edge retention of matching objects (ms, or null for never), overriding the global one. */
  readonly retention?: { readonly deleteFromEdgeAfter: number | null } | undefined;
}

export interface RuleDecision {
  readonly priority: number;
  readonly excluded: boolean;
  /** Index of the rule that matched, or -1. */
  readonly rule: number;
}

export function matches(match: RuleMatch, bucket: string, key: string): boolean {
  if (match.bucket !== undefined && match.bucket !== bucket) return false;
  if (match.prefix !== undefined && !key.startsWith(match.prefix)) return false;
  if (match.suffix !== undefined && !key.endsWith(match.suffix)) return false;
  return true;
}

export function decide(rules: readonly Rule[], bucket: string, key: string): RuleDecision {
  for (let index = 0; index < rules.length; index += 1) {
    const rule = rules[index]!;
    if (matches(rule.match, bucket, key)) {
      return { priority: PRIORITY_RANK[rule.priority ?? 'normal'], excluded: rule.exclude === true, rule: index };
    }
  }
  return { priority: PRIORITY_RANK.normal, excluded: false, rule: -1 };
}
