/**
 * Loading the config: read the YAML file, substitute `${VAR}` from the environment, validate
 * once against the schema, normalise, deep-freeze. Every problem is reported at once, each with
 * the path of its field (`core.bucket: required`), in a TributaryError whose `problems` list the
 * CLI prints before exiting with code 2.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

import { TributaryError } from '../core/errors.js';
import { isSecretField } from './redact.js';
import { configSchema, fleetConfigSchema, type Config, type EdgeBucketConfig, type FleetConfig } from './schema.js';

export class ConfigError extends TributaryError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source: string) {
    super('TRIB_ERR_CONFIG_INVALID', `invalid config ${source}:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** `rules[0].match.prefix` from ['rules', 0, 'match', 'prefix']. */
/** `rules[0].match.prefix`; a key that is not a plain name is quoted: `scan[" "]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(part))) out += `[${JSON.stringify(String(part))}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** A union branch the value was clearly not meant for: it failed on its type at the top. */
function wrongBranch(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.some((issue) => issue.path.length === 0 && issue.code === 'invalid_type');
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`);
  }
  if (issue.code === 'invalid_union') {
    // zod 4 reports a union as one "invalid_union" unless exactly one branch failed without
    // aborting, so `{ name: pos, prefx: x }` in edge.buckets would read "expected a bucket name or
    // { name, prefix }" and hide what is wrong inside the object. When the value has the type of
    // exactly one branch, report that branch's own problems, under the union's path.
    const plausible = issue.errors.filter((branch) => !wrongBranch(branch));
    const [only] = plausible;
    if (plausible.length === 1 && only !== undefined && only.length > 0) {
      return only.flatMap((inner) => formatIssue({ ...inner, path: [...issue.path, ...inner.path] }));
    }
  }
  const last = issue.path.at(-1);
  if (typeof last === 'string' && isSecretField(last)) {
    // A secret's value never appears in a message, even a wrong one: it may be the real secret.
    // (zod does not keep the input in its issues, so not even its type is told.)
    return [`${formatPath(issue.path)}: ${issue.message.replace(/, got .*$/s, ', got a value (redacted)')}`];
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** A shell expansion with a default or a check (`${NAME:-x}`, `${NAME-x}`, `${NAME:?}`...): refused, not taken as text. */
const SHELL_EXPANSION = /\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=?+][^}]*\}/g;

/**
 * Replaces `${VAR}` in every string of the tree; a missing variable is a problem for that path,
 * except in a secret field when `secretsMayBeUnset` (commands that never talk to S3).
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: PropertyKey[] = [],
  secretsMayBeUnset = false,
): unknown {
  if (typeof value === 'string') {
    for (const [expansion] of value.matchAll(SHELL_EXPANSION)) {
      problems.push(`${formatPath(path)}: ${expansion} is not supported: write \${NAME} (no defaults or other shell forms)`);
    }
    const last = path.at(-1);
    const secret = typeof last === 'string' && isSecretField(last);
    return value.replace(VARIABLE, (match, name: string) => {
      const found = env[name];
      if (found === undefined) {
        if (secret && secretsMayBeUnset) return match;
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, problems, [...path, index], secretsMayBeUnset));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, problems, [...path, key], secretsMayBeUnset)]),
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
  /**
   * For commands that only read the local journal (status, retry): a secret whose variable is not
   * set stays `${NAME}` instead of being an error, since the site's secrets often live only in
   * the agent's service unit. Such a config must never be used to talk to S3.
   */
  readonly secretsMayBeUnset?: boolean;
}

/** Validates an already-parsed document (YAML or an object built in code). */
/** Interpolates `${VAR}` and validates against `schema`, reporting every problem at once. */
function validate<Schema extends z.ZodType>(schema: Schema, raw: unknown, source: string, options: LoadOptions): z.output<Schema> {
  const problems: string[] = [];
  const interpolated = interpolateEnv(raw ?? {}, options.env ?? process.env, problems, [], options.secretsMayBeUnset === true);
  // A field whose variable is missing is reported once, for the variable, not again for the
  // empty string that stood in for it (`site: expected a site name ..., got ""`).
  const unset = problems.map((problem) => problem.slice(0, problem.indexOf(': ') + 2));
  const result = schema.safeParse(interpolated);
  if (!result.success) {
    const schemaProblems = result.error.issues.flatMap(formatIssue);
    problems.push(...schemaProblems.filter((problem) => !unset.some((prefix) => problem.startsWith(prefix))));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError([...new Set(problems)], source);
  return result.data;
}

/** Validates a parsed fleet-view config (only `core` and `fleet` are needed). */
export function parseFleetConfig(raw: unknown, source = '(inline)', options: LoadOptions = {}): FleetConfig {
  const parsed = validate(fleetConfigSchema, raw, source, options);
  return deepFreeze({ core: { ...parsed.core, ...withCaBundle(parsed.core.caBundle, options) }, fleet: parsed.fleet });
}

export function parseConfig(raw: unknown, source = '(inline)', options: LoadOptions = {}): Config {
  const parsed = validate(configSchema, raw, source, options);
  const buckets: EdgeBucketConfig[] = parsed.edge.buckets.map((bucket) =>
    typeof bucket === 'string' ? { name: bucket, prefix: '' } : { name: bucket.name, prefix: bucket.prefix },
  );
  return deepFreeze({
    ...parsed,
    journal: fromConfigFolder(parsed.journal, options),
    edge: { ...parsed.edge, buckets, ...withCaBundle(parsed.edge.caBundle, options) },
    core: { ...parsed.core, ...withCaBundle(parsed.core.caBundle, options) },
    transfer: parsed.transfer,
  });
}

/** A relative path in the config (journal, caBundle) is relative to the config file's folder. */
function fromConfigFolder(path: string, options: LoadOptions): string {
  return isAbsolute(path) ? path : resolve(options.baseDir ?? process.cwd(), path);
}

function withCaBundle(caBundle: string | undefined, options: LoadOptions): { caBundle?: string } {
  return caBundle === undefined ? {} : { caBundle: fromConfigFolder(caBundle, options) };
}

/**
 * `${VAR}` is not valid YAML inside a flow mapping or list (`{ accessKeyId: ${KEY} }`): its braces
 * are flow indicators there. Before parsing, each reference becomes `$\uE000VAR\uE001` (the same
 * length, so line and column numbers stay right; private-use characters no config contains) and
 * is turned back into `${VAR}` in the parsed values, which are then interpolated as usual. The
 * environment's values never pass through the YAML parser.
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PROTECTED = /\$\uE000([A-Za-z_][A-Za-z0-9_]*)\uE001/g;

function protectReferences(text: string): string {
  if (text.includes(OPEN) || text.includes(CLOSE)) return text;
  return text.replace(VARIABLE, (_match, name: string) => `$${OPEN}${name}${CLOSE}`);
}

function restoreReferences(text: string): string {
  return text.replace(PROTECTED, (_match, name: string) => `\${${name}}`);
}

function restoreTree(value: unknown): unknown {
  if (typeof value === 'string') return restoreReferences(value);
  if (Array.isArray(value)) return value.map(restoreTree);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [restoreReferences(key), restoreTree(item)]));
  }
  return value;
}

/** After a syntax error, the parser's further errors are mostly its own confusion. */
const MAX_YAML_ERRORS = 5;

export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  return parseConfig(readConfigDocument(file), file, { baseDir: dirname(resolve(file)), ...options });
}

export function loadFleetConfigFile(file: string, options: LoadOptions = {}): FleetConfig {
  return parseFleetConfig(readConfigDocument(file), file, { baseDir: dirname(resolve(file)), ...options });
}

/** Reads and parses the YAML file; syntax problems become a ConfigError with line and column. */
function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${file}: ${(error as Error).message}`], file);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(protectReferences(text), { prettyErrors: false, uniqueKeys: true, lineCounter });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  if (doc.errors.length > 0) {
    // Duplicate keys are reported with the path of the key; the parser's message does not name it.
    const duplicates = duplicateKeys(doc).map(({ path, offset }) => `${formatPath(path)}: duplicate key (${at(offset)})`);
    const others = doc.errors
      .filter((error) => error.code !== 'DUPLICATE_KEY' || duplicates.length === 0)
      .map((error) => `YAML syntax error at ${at(error.pos[0])}: ${error.message}`);
    const all = [...duplicates, ...others];
    const shown = all.slice(0, MAX_YAML_ERRORS);
    if (all.length > shown.length) shown.push(`(${all.length - shown.length} more YAML errors after these)`);
    throw new ConfigError(shown.map(restoreReferences), file);
  }
  let raw: unknown;
  try {
    raw = restoreTree(doc.toJS());
  } catch (error) {
    // An alias to a missing anchor, or one that expands past the alias limit.
    throw new ConfigError([`YAML: ${restoreReferences((error as Error).message)}`], file);
  }
  return raw;
}

/** Keys that appear twice in the same mapping, with their paths and where the second one is. */
function duplicateKeys(doc: Document): { path: PropertyKey[]; offset: number }[] {
  const found: { path: PropertyKey[]; offset: number }[] = [];
  const walk = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const name = typeof key === 'string' || typeof key === 'number' ? String(key) : undefined;
        if (name !== undefined && seen.has(name)) {
          found.push({ path: [...path, restoreReferences(name)], offset: isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0 });
        }
        seen.add(name);
        if (name !== undefined) walk(pair.value, [...path, name]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    }
  };
  walk(doc.contents, []);
  return found;
}
