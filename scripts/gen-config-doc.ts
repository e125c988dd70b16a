/**
 * Generates docs/config.md from the config schema (src/config/schema.ts): every field with its
 * path, type, default and the description given to it with `.describe()`, then the rules of the
 * file that are not one field's business (`${VAR}`, units, rule order, what is not applied yet).
 *
 *   node --import tsx scripts/gen-config-doc.ts           writes docs/config.md
 *   node --import tsx scripts/gen-config-doc.ts --check   exits 1 when docs/config.md is stale
 *
 * test/unit/config/config-doc.test.ts fails when docs/config.md differs from this output.
 *
 * Why a walk of the schema rather than `z.toJSONSchema(schema, { io: 'input' })`: the unit-bearing
 * fields (sizes, durations, rates, positive integers) are transforms of `z.unknown()`, so JSON
 * Schema renders them as `{}`, with neither type nor default. Here they are told apart by the
 * `valueKinds` registry the schema puts them in, and their defaults are shown in their units.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { z } from 'zod';

import { defOf } from '../src/config/config-units.js';
import { configSchema, valueKinds, type ValueKind } from '../src/config/schema.js';
import { durationInConfigUnits, rateInConfigUnits, sizeInConfigUnits } from '../src/core/units.js';

export const CONFIG_DOC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'config.md');

/** A field with its wrappers (optional, default, prefault) peeled off. */
interface Field {
  readonly schema: z.core.$ZodType;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly description: string | undefined;
}

function peel(outer: z.core.$ZodType): Field {
  let schema = outer;
  let required = true;
  let hasDefault = false;
  let defaultValue: unknown;
  let description: string | undefined;
  for (;;) {
    // The outermost description wins: `.describe()` is usually the last call of a field.
    description ??= z.globalRegistry.get(schema)?.description;
    const def = defOf(schema);
    if (def.type === 'optional' && def.innerType !== undefined) {
      required = false;
      schema = def.innerType;
    } else if ((def.type === 'default' || def.type === 'prefault') && def.innerType !== undefined) {
      required = false;
      if (!hasDefault) {
        hasDefault = true;
        defaultValue = def.defaultValue;
      }
      schema = def.innerType;
    } else {
      return { schema, required, hasDefault, defaultValue, description };
    }
  }
}

const kindOf = (schema: z.core.$ZodType): ValueKind | undefined => valueKinds.get(schema)?.kind;

const KIND_LINKS: Record<ValueKind, string> = {
  'positive integer': 'positive integer',
  size: '[size](#sizes)',
  duration: '[duration](#durations)',
  rate: '[rate](#rates)',
};

function typeName(schema: z.core.$ZodType, plural = false): string {
  const kind = kindOf(schema);
  if (kind !== undefined) return KIND_LINKS[kind] + (plural ? 's' : '');
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return plural ? 'strings' : 'string';
    case 'boolean':
      return plural ? 'booleans' : '`true` or `false`';
    case 'enum':
      return `one of ${Object.values(def.entries ?? {})
        .map((value) => `\`${value}\``)
        .join(', ')}`;
    case 'object':
      return plural ? 'mappings' : 'mapping';
    case 'array':
      return `list of ${def.element === undefined ? 'values' : typeName(peel(def.element).schema, true)}`;
    case 'union':
      return (def.options ?? []).map((option) => typeName(peel(option).schema, plural)).join(' or ');
    case 'pipe': {
      // z.preprocess(fn, inner): the accepted type is the inner schema's.
      const out = (def as { out?: z.core.$ZodType }).out;
      if (out !== undefined) return typeName(peel(out).schema, plural);
      throw new Error('gen-config-doc: a pipe without an output schema');
    }
    default:
      throw new Error(`gen-config-doc: no type name for a zod "${def.type}" schema; teach typeName about it`);
  }
}

function formatDefault(field: Field): string {
  if (field.required) return '**required**';
  if (!field.hasDefault) return '—';
  const value = field.defaultValue;
  const kind = kindOf(field.schema);
  if (typeof value === 'number' && kind === 'size') return `\`${sizeInConfigUnits(value)}\``;
  if (typeof value === 'number' && kind === 'duration') return `\`${durationInConfigUnits(value)}\``;
  if (typeof value === 'number' && kind === 'rate') return `\`${rateInConfigUnits(value)}\``;
  if (typeof value === 'string') return value === '' ? '`""`' : `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

/** Every field under `schema`, depth first in the order the schema declares them. */
function collect(schema: z.core.$ZodType, path: string, rows: Row[]): void {
  const def = defOf(schema);
  if (def.type === 'object') {
    for (const [key, child] of Object.entries(def.shape ?? {})) {
      const childPath = path === '' ? key : `${path}.${key}`;
      const field = peel(child);
      rows.push({
        path: childPath,
        type: typeName(field.schema),
        default: formatDefault(field),
        description: field.description ?? '',
      });
      collect(field.schema, childPath, rows);
    }
  } else if (def.type === 'array' && def.element !== undefined) {
    collect(peel(def.element).schema, `${path}[]`, rows);
  } else if (def.type === 'union') {
    for (const option of def.options ?? []) collect(peel(option).schema, path, rows);
  }
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function fieldTable(): string {
  const rows: Row[] = [];
  collect(configSchema, '', rows);
  const missing = rows.filter((row) => row.description === '').map((row) => row.path);
  if (missing.length > 0) throw new Error(`gen-config-doc: fields without a .describe() in the schema: ${missing.join(', ')}`);
  return [
    '| Field | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| \`${row.path}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`),
  ].join('\n');
}

/** The example of DESIGN.md "Contract: the config file", shipped as examples/tributary.yaml. The doc test checks that it loads. */
export const EXAMPLE = readFileSync(new URL('../examples/tributary.yaml', import.meta.url), 'utf8');

/** The whole of docs/config.md. */
export function renderConfigDoc(): string {
  return `<!-- Generated by scripts/gen-config-doc.ts from src/config/schema.ts: do not edit by hand.
     Change the schema's .describe() texts or the script, then run
     node --import tsx scripts/gen-config-doc.ts -->

# Configuration

Tributary reads one YAML file, \`tributary.yaml\` in the working folder unless \`-c FILE\` names
another. Check a file, and see every default filled in, with

\`\`\`
tributary config check -c tributary.yaml
\`\`\`

It prints the effective config with every secret replaced by \`[redacted]\` and exits 0, or
lists every problem of the file at once, each with the path of its field
(\`core.bucket: required\`, \`transfer.concurrency: expected a positive integer, got "lots"\`,
\`rules[1].match.prfix: unknown field\`), and exits 2. Every command that reads the file validates
it the same way, and stops with exit code 2 on the same problems, before it does anything.

Field names are a contract: they are never renamed. Every mapping is strict: a field that is not
listed below is an error, not silently ignored, so a typo cannot pass for a default.

## Example

\`\`\`yaml
${EXAMPLE}\`\`\`

## Fields

Paths are written as in the error messages: \`edge.buckets[]\` is an item of the list
\`edge.buckets\`. A field with a default may be left out; so may a whole section
(\`transfer\`, \`scan\`, \`http\`) whose fields all have defaults.

${fieldTable()}

## Environment variables: \`\${VAR}\`

A string value may contain \`\${NAME}\` references (\`NAME\` is letters, digits and \`_\`, not
starting with a digit). Each is replaced by the value of that environment variable, in every
string value of the file, after the YAML is parsed:

- A reference can be all of a value (\`secretAccessKey: \${EDGE_SECRET_KEY}\`) or part of one
  (\`prefix: \${STORE_ID}/receipts/\`), and may stand inside a flow mapping or list
  (\`credentials: { accessKeyId: \${KEY}, secretAccessKey: \${SECRET} }\`).
- A variable that is not set is an error that names the field
  (\`edge.credentials.accessKeyId: environment variable EDGE_ACCESS_KEY is not set\`). A variable
  set to the empty string is substituted as empty. \`tributary status\` and \`tributary retry\`
  read only the local journal: for them an unset variable in a secret field (credentials,
  \`http.token\`) is no error, so they run in a shell that does not hold the site's secrets.
- Shell defaults and checks (\`\${NAME:-x}\`, \`\${NAME-x}\`, \`\${NAME:?}\`) are not supported and
  are refused by name; give the value in the environment or in the file.
- The variable's value is text, never YAML: quotes, \`#\`, \`:\` or braces in it are kept as they
  are. So a substituted value suits strings, sizes, durations and rates
  (\`partSize: \${PART_SIZE}\`), and also whole numbers (\`concurrency: \${CONCURRENCY}\` with
  \`CONCURRENCY=8\`) and \`true\`/\`false\`, which are accepted as text too.
- Only \`\${NAME}\` is a reference: \`$NAME\` and \`\${}\` are literal text. There is no default
  syntax and no escape.
- References are not expanded in field names, only in values.

Put credentials in the environment, not in the file. Wherever the config is printed (\`config
check\`, logs), the values of \`accessKeyId\`, \`secretAccessKey\`, \`sessionToken\` and \`token\` are
shown as \`[redacted]\`.

## Units

### Sizes

A whole number of bytes (\`16777216\`), or a number and a unit, case-insensitive, with an optional
space and decimals (\`16MiB\`, \`1.5 GiB\`, \`512kb\`):

| Unit | Bytes |
| --- | --- |
| \`B\` | 1 |
| \`K\`, \`KB\` / \`M\`, \`MB\` / \`G\`, \`GB\` / \`T\`, \`TB\` | 1000, 1000², 1000³, 1000⁴ |
| \`Ki\`, \`KiB\` / \`Mi\`, \`MiB\` / \`Gi\`, \`GiB\` / \`Ti\`, \`TiB\` | 1024, 1024², 1024³, 1024⁴ |

### Durations

A number and a unit: \`ms\`, \`s\`, \`m\` (minutes), \`h\`, \`d\`, \`w\`; units can be combined with no
space (\`1h30m\`, \`2m30s\`). A bare number is seconds (\`90\` is 90s).

### Rates

A size per second: \`2MiB/s\`, \`500KB/s\` (the \`/s\` may be left out). \`unlimited\` and \`off\`
mean no limit; \`0\` means nothing is sent (a pause).

## Rules: which rule applies

\`rules\` is a list, tried in order for every object; the **first** rule whose \`match\` fits the
object decides its priority, whether it is excluded and its compression. Later
rules are not consulted, even for the fields the first rule leaves out: a first rule with only
\`compress\` gives its objects the priority \`normal\`.

- A \`match\` fits when all its conditions hold: \`bucket\` is the edge bucket's name, \`prefix\`
  and \`suffix\` test the whole object key (not the part after a bucket's own \`prefix\`). An empty
  or absent \`match\` fits every object, so it belongs last.
- An object no rule fits replicates with priority \`normal\`.
- Priorities, highest first: \`critical\`, \`high\`, \`normal\`, \`bulk\`. Objects are transferred
  by class, but every 10 minutes an object has waited counts as one class higher, so \`bulk\`
  objects are delayed, never starved.
- \`exclude: true\` keeps matching objects out of replication altogether.
- \`retention\` in a rule overrides the global \`retention.deleteFromEdgeAfter\` for its objects
  (\`never\` keeps them at the edge); a rule without it leaves them to the global period.
- A rule whose \`match.bucket\` is not one of the site's edge buckets is an error: it would never
  match, and is a typo or a rule copied from another site.

## Refused by this version

These fields are part of the file's contract, but this version cannot do what they ask. A file
that asks for it is refused (exit 2, naming the field) rather than accepted and ignored: a config
never promises a saving or a limit that does not happen.

- \`rules[].compress\`: only \`none\` is accepted; \`zstd\` and \`gzip\` are refused (objects land as
  they are).
- \`bandwidth[].limit\`: only \`unlimited\` is accepted; a rate, or \`0\`, is refused (no limit is
  held). Windows are still checked.
- \`edge.checksums\`: refused: the edge is only read, and what is read is checked with Tributary's
  own MD5 and SHA-256 (\`core.checksums\` applies to the core's multipart uploads, the only writes
  made through the AWS SDK; single PUTs, manifests and heartbeats carry Content-MD5 instead).
`;
}

function main(argv: readonly string[]): number {
  const text = renderConfigDoc();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_DOC_PATH, 'utf8');
    } catch {
      // missing: stale
    }
    if (current === text) return 0;
    process.stderr.write(`${CONFIG_DOC_PATH} is out of date: run node --import tsx scripts/gen-config-doc.ts\n`);
    return 1;
  }
  writeFileSync(CONFIG_DOC_PATH, text);
  process.stdout.write(`wrote ${CONFIG_DOC_PATH}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
