/**
 * Loading the config: read the YAML file, substitute `${VAR}` from the environment, validate
 * once against the schema, normalise, deep-freeze. Every problem is reported at once, each with
 * the path of its field (`core.bucket: required`), in a TributaryError whose `problems` list the
 * CLI prints before exiting with code 2.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';

import { parseDocument } from 'yaml';
import type { z } from 'zod';

import { TributaryError } from '../core/errors.js';
import { configSchema, type Config, type EdgeBucketConfig } from './schema.js';

export class ConfigError extends TributaryError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source: string) {
    super('TRIB_ERR_CONFIG_INVALID', `invalid config ${source}:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** `rules[0].match.prefix` from ['rules', 0, 'match', 'prefix']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`);
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    return [`${formatPath(issue.path)}: ${issue.message}`];
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${VAR}` in every string of the tree; a missing variable is a problem for that path. */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_match, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, problems, [...path, key])]),
    );
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Where relative paths in the config (journal) are resolved from. */
  readonly baseDir?: string;
}

/** Validates an already-parsed document (YAML or an object built in code). */
export function parseConfig(raw: unknown, source = '(inline)', options: LoadOptions = {}): Config {
  const problems: string[] = [];
  const interpolated = interpolateEnv(raw ?? {}, options.env ?? process.env, problems);
  const result = configSchema.safeParse(interpolated);
  if (!result.success) problems.push(...result.error.issues.flatMap(formatIssue));
  if (problems.length > 0 || !result.success) throw new ConfigError([...new Set(problems)], source);
  const parsed = result.data;
  const buckets: EdgeBucketConfig[] = parsed.edge.buckets.map((bucket) =>
    typeof bucket === 'string' ? { name: bucket, prefix: '' } : { name: bucket.name, prefix: bucket.prefix },
  );
  const journal = isAbsolute(parsed.journal) ? parsed.journal : resolve(options.baseDir ?? process.cwd(), parsed.journal);
  return deepFreeze({
    ...parsed,
    journal,
    edge: { ...parsed.edge, buckets },
    transfer: { ...parsed.transfer, multipartThreshold: parsed.transfer.multipartThreshold ?? parsed.transfer.partSize },
  });
}

export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${file}: ${(error as Error).message}`], file);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => `YAML syntax: ${error.message.split('\n')[0] ?? ''}`),
      file,
    );
  }
  return parseConfig(doc.toJS(), file, { baseDir: dirname(resolve(file)), ...options });
}
