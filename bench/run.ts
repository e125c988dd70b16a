/**
 * `npm run bench`: Tributary `sync --once` against `rclone copy` on the same data, the same
 * local S3 servers (s3rver on 127.0.0.1) and the same measurement (GNU time: wall, user+sys CPU,
 * peak RSS). See docs/benchmarks.md for what is measured and the targets.
 *
 * Usage: npm run bench -- [--quick] [--only a|b|c|rss[,...]] [--rss-100k] [--skip-rss] [--json out.json]
 *
 * Per data set: an edge server is seeded (not timed) and stopped; then each copier reads from its
 * own fresh edge server over a copy of that data (so neither finds a server warmed by the other)
 * and writes into its own fresh core server; every copy is counted. Besides Tributary and rclone,
 * bench/node-floor.mjs runs as a reference: the least a Node.js copier can do. Every server
 * and process is stopped and the temp folder removed at the end, also on failure or Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';

import { openDatabase, type Db } from '../src/db/open-database.js';
import { localS3Client, startLocalS3, type LocalS3 } from '../src/demo/s3-server.js';
import { buildDataset, DATASET_IDS, seedBucket, waitForListing, type Dataset, type DatasetId, type Listing } from './datasets.js';
import { formatEvents, runEventsBench } from './events.js';
import { hashShare, measureHashCost, type HashCost } from './hashing.js';
import { ensureTools, killAllChildren, processCpuSeconds, runTimed, shellQuote, withoutCaBundle, type TimedRun } from './processes.js';
import {
  evaluateTargets,
  fmt,
  formatDataset,
  formatHashCost,
  toolResult,
  type BenchReport,
  type DatasetResult,
  type ToolResult,
} from './report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'bin.js');
/** The least a Node.js copier can do (bench/node-floor.mjs), a reference row beside rclone. */
const NODE_FLOOR = join(ROOT, 'bench', 'node-floor.mjs');
const SITE = 'bench-site';
const CORE_BUCKET = 'lake';
const RCLONE_FLAGS = ['--transfers', '16', '--checkers', '16', '--fast-list', '--s3-no-head'];
/** Same part size as Tributary's default partSize (rclone's M is MiB). */
const RCLONE_MULTIPART_FLAGS = ['--s3-upload-cutoff', '16M', '--s3-chunk-size', '16M'];
const TRIBUTARY_TRANSFER = { concurrency: 16 };
const USAGE =
  'usage: npm run bench -- [--quick] [--only a|b|c|rss|events[,...]] [--rss-100k] [--skip-rss] [--skip-events] [--json out.json] [--profile DIR] [--node-options OPTS]';

interface Options {
  readonly quick: boolean;
  readonly datasets: readonly DatasetId[];
  readonly jsonFile: string | undefined;
  readonly profileDir: string | undefined;
  /** NODE_OPTIONS for the Tributary process only (e.g. the young-generation cap of docs/operations.md). */
  readonly nodeOptions: string | undefined;
  /** The event path: latency at 50 objects/s with events and with scans only, and the intake rate. */
  readonly events: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'string' },
      'node-options': { type: 'string' },
      'rss-100k': { type: 'boolean', default: false },
      'skip-rss': { type: 'boolean', default: false },
      'skip-events': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(
      `${USAGE}\n\n` +
        '  --quick       every data set scaled down ×10 (the large set: 1 of the 8 objects); skips the RSS run unless asked\n' +
        '  --only LIST   run only these data sets: a (4 KiB JSON lines), b (mixed 1 KiB-2 MiB), c (64 MiB), rss (100,000 tiny objects)\n' +
        '  --rss-100k    run the peak-RSS measurement over 100,000 objects (default unless --quick)\n' +
        '  --skip-rss    do not run it (it seeds for 4-5 minutes)\n' +
        '  --skip-events do not run the event-path benchmark (about 3 minutes)\n' +
        '  --json FILE   also write the results as JSON\n' +
        '  --profile DIR run Tributary with --cpu-prof into DIR (adds overhead: figures not comparable)\n' +
        '  --node-options OPTS  run Tributary with NODE_OPTIONS=OPTS (rclone is unaffected), e.g. --max-semi-space-size=4',
    );
    process.exit(0);
  }
  let datasets: DatasetId[];
  let events = !values['skip-events'];
  if (values.only !== undefined) {
    datasets = [];
    const names = values.only
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    events = names.includes('events');
    for (const name of names.filter((n) => n !== 'events')) {
      if (!(DATASET_IDS as readonly string[]).includes(name))
        throw new Error(`--only: unknown data set "${name}" (expected a, b, c or rss)\n${USAGE}`);
      if (!datasets.includes(name as DatasetId)) datasets.push(name as DatasetId);
    }
    if (values['rss-100k'] && !datasets.includes('rss')) datasets.push('rss');
  } else {
    datasets = ['a', 'b', 'c'];
    if (!values['skip-rss'] && (!values.quick || values['rss-100k'])) datasets.push('rss');
  }
  if (datasets.length === 0 && !events) throw new Error(`nothing to run\n${USAGE}`);
  // npm runs scripts in the package folder; a relative --json path means the caller's folder.
  const callerDir = process.env['INIT_CWD'] ?? process.cwd();
  const jsonFile = values.json === undefined ? undefined : resolve(callerDir, values.json);
  const profileDir = values.profile === undefined ? undefined : resolve(callerDir, values.profile);
  return { quick: values.quick, datasets, jsonFile, profileDir, events, nodeOptions: values['node-options'] };
}

// ---------------------------------------------------------------------------------------------
// Everything started here, so that any exit path can stop it.

const servers = new Set<LocalS3>();
const clients = new Set<S3Client>();
let tempRoot: string | undefined;
const abort = new AbortController();
// Every seeding request listens to it: many listeners are expected, not a leak.
setMaxListeners(0, abort.signal);
// The SDK's notice about future Node versions is not for this output (the CLI silences it too).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

async function cleanup(): Promise<void> {
  killAllChildren();
  for (const client of clients) client.destroy();
  clients.clear();
  await Promise.allSettled([...servers].map((server) => server.stop()));
  servers.clear();
  if (tempRoot !== undefined) {
    rmSync(tempRoot, { recursive: true, force: true });
    tempRoot = undefined;
  }
}

let signalled = false;
function onSignal(signal: NodeJS.Signals): void {
  if (signalled) process.exit(130);
  signalled = true;
  process.stderr.write(`\n${signal}: stopping every process and server, removing temp folders\n`);
  abort.abort(new Error(signal));
  void cleanup().finally(() => process.exit(130));
}

async function startServer(directory: string, buckets: readonly string[]): Promise<LocalS3> {
  const server = await startLocalS3({ directory, buckets });
  servers.add(server);
  return server;
}

async function stopServer(server: LocalS3): Promise<void> {
  await server.stop();
  servers.delete(server);
}

function clientFor(server: LocalS3, sockets: number): S3Client {
  const client = localS3Client(server, sockets, 120_000);
  clients.add(client);
  return client;
}

function releaseClient(client: S3Client): void {
  client.destroy();
  clients.delete(client);
}

// ---------------------------------------------------------------------------------------------

const benchStarted = performance.now();
/** Progress goes to stderr with the seconds since the start; results go to stdout. */
const log = (text: string) => {
  const line = text.replace(/^\n+/, '');
  if (line !== text) process.stderr.write('\n');
  const [first, ...rest] = line.split('\n');
  const stamp = `[${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(7)} s]`;
  process.stderr.write(`${stamp} ${first ?? ''}${rest.map((l) => `\n${' '.repeat(stamp.length)} ${l}`).join('')}\n`);
};

/**
 * Every 30 s of a long Tributary run, how many objects its journal holds by state (read-only;
 * SQLite's WAL lets a reader in beside the writer). Returns the function that stops it.
 */
function watchJournal(folder: string): () => void {
  const timer = setInterval(() => {
    let db: Db | undefined;
    try {
      db = openDatabase(folder, { readonly: true });
      const rows = db.prepare<[], { state: string; n: number }>('SELECT state, count(*) AS n FROM objects GROUP BY state').all();
      log(`  tributary journal: ${rows.map((r) => `${r.state} ${r.n.toLocaleString('en-US')}`).join(', ') || 'empty'}`);
    } catch {
      // not created yet, or busy: try again next time
    } finally {
      db?.close();
    }
  }, 30_000);
  return () => clearInterval(timer);
}

function rcloneEnv(edge: LocalS3, core: LocalS3): Record<string, string> {
  const vars: Record<string, string> = { RCLONE_CONFIG: '/dev/null' };
  for (const [name, server] of [
    ['EDGE', edge],
    ['CORE', core],
  ] as const) {
    const prefix = `RCLONE_CONFIG_${name}_`;
    vars[`${prefix}TYPE`] = 's3';
    vars[`${prefix}PROVIDER`] = 'Other';
    vars[`${prefix}ENDPOINT`] = server.endpoint;
    vars[`${prefix}ACCESS_KEY_ID`] = server.accessKeyId;
    vars[`${prefix}SECRET_ACCESS_KEY`] = server.secretAccessKey;
    vars[`${prefix}FORCE_PATH_STYLE`] = 'true';
    vars[`${prefix}ENV_AUTH`] = 'false';
  }
  return vars;
}

/** Runs one copier under GNU time, then counts what reached the core bucket. */
async function measure(options: {
  readonly tool: ToolResult['tool'];
  readonly data: Dataset;
  readonly dir: string;
  readonly edge: LocalS3;
  readonly core: LocalS3;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly display: string;
  readonly corePrefix: string;
  readonly timeoutMs: number;
  /** Tributary's journal folder, to report progress on long runs. */
  readonly journal?: string;
}): Promise<ToolResult> {
  const { data, edge, core } = options;
  log(`  ${options.tool}: ${options.display}`);
  const edgeBefore = processCpuSeconds(edge.process.pid);
  const coreBefore = processCpuSeconds(core.process.pid);
  const stopWatching = options.journal === undefined ? () => undefined : watchJournal(options.journal);
  let run: TimedRun;
  try {
    run = await runTimed({
      command: options.command,
      args: options.args,
      env: options.env,
      cwd: ROOT,
      timeFile: join(options.dir, `time-${options.tool}.txt`),
      timeoutMs: options.timeoutMs,
    });
  } finally {
    stopWatching();
  }
  const serverCpuS = { edge: processCpuSeconds(edge.process.pid) - edgeBefore, core: processCpuSeconds(core.process.pid) - coreBefore };
  abort.signal.throwIfAborted();
  const expected: Listing = { count: data.objects.length, bytes: data.totalBytes };
  const coreClient = clientFor(core, 4);
  let landed: Listing;
  try {
    landed = await waitForListing(coreClient, CORE_BUCKET, options.corePrefix, expected, run.exitCode === 0 ? 15_000 : 0);
  } finally {
    releaseClient(coreClient);
  }
  const failed = run.exitCode !== 0 || landed.count !== expected.count || landed.bytes !== expected.bytes;
  const summary = run.stdout.trim().split('\n').at(-1);
  const errorTail = failed
    ? [run.timedOut ? `timed out after ${options.timeoutMs / 1000} s` : '', run.stderr.trim().split('\n').slice(-20).join('\n')]
        .filter((s) => s !== '')
        .join('\n')
    : undefined;
  const result = toolResult(options.tool, { ...run, command: options.display }, expected.count, expected.bytes, landed, serverCpuS, {
    ...(options.tool === 'tributary' && summary ? { summary } : {}),
    ...(errorTail ? { errorTail } : {}),
  });
  log(
    `  ${options.tool}: exit ${String(run.exitCode)}, ${fmt(run.wallS, 2)} s wall, ${fmt(run.cpuS, 2)} CPU-s, ${fmt(result.peakRssMB, 1)} MB peak RSS; ` +
      `core holds ${landed.count}/${expected.count} objects`,
  );
  return result;
}

async function runDataset(data: Dataset, root: string, options: Options, hashCost: HashCost | undefined): Promise<DatasetResult> {
  const { quick } = options;
  const dir = join(root, `dataset-${data.id}`);
  const timeoutMs = (quick ? 15 : data.id === 'rss' ? 180 : 60) * 60_000;
  log(`\n== (${data.id}) ${data.title}: ${data.objects.length} objects, ${fmt(data.totalBytes / 1e6, 1)} MB`);
  // s3rver maps keys to paths unsanitised: keep its data folders nested deep in the temp folder.
  const serverDir = (name: string) => join(dir, 'servers', name, 'data', 'store');
  const started: LocalS3[] = [];
  const start = async (name: string, buckets: readonly string[]) => {
    const server = await startServer(serverDir(name), buckets);
    started.push(server);
    return server;
  };
  try {
    const edge = await start('edge', [data.bucket]);

    const seedStarted = performance.now();
    const seedClient = clientFor(edge, data.seedConcurrency);
    let lastReport = Date.now();
    try {
      await seedBucket(
        seedClient,
        data,
        (done) => {
          if (Date.now() - lastReport >= 10_000) {
            lastReport = Date.now();
            log(`  seeding ${done.toLocaleString('en-US')}/${data.objects.length.toLocaleString('en-US')}`);
          }
        },
        abort.signal,
      );
      const listed = await waitForListing(seedClient, data.bucket, '', { count: data.objects.length, bytes: data.totalBytes }, 60_000);
      if (listed.count !== data.objects.length || listed.bytes !== data.totalBytes) {
        throw new Error(
          `edge bucket holds ${listed.count} objects / ${listed.bytes} bytes after seeding, expected ${data.objects.length} / ${data.totalBytes}`,
        );
      }
    } finally {
      releaseClient(seedClient);
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`  seeded in ${fmt(seedSeconds, 1)} s`);
    // Each copier reads from its own fresh edge server over a copy of the seeded data: a server
    // that already served one copier has a warm JIT and page cache, which would favour the second.
    await stopServer(edge);
    const freshEdge = async (tool: string): Promise<LocalS3> => {
      cpSync(serverDir('edge'), serverDir(`edge-${tool}`), { recursive: true });
      return start(`edge-${tool}`, [data.bucket]);
    };

    // Tributary into a fresh core server.
    const edgeTributary = await freshEdge('tributary');
    const coreTributary = await start('core-tributary', [CORE_BUCKET]);
    const configFile = join(dir, 'tributary.yaml');
    const journalDir = join(dir, 'journal');
    writeFileSync(
      configFile,
      stringify({
        site: SITE,
        journal: journalDir,
        edge: {
          endpoint: edgeTributary.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: edgeTributary.accessKeyId, secretAccessKey: edgeTributary.secretAccessKey },
          buckets: [data.bucket],
        },
        core: {
          endpoint: coreTributary.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: coreTributary.accessKeyId, secretAccessKey: coreTributary.secretAccessKey },
          bucket: CORE_BUCKET,
        },
        transfer: TRIBUTARY_TRANSFER,
      }),
    );
    const profileArgs =
      options.profileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=tributary-${data.id}.cpuprofile`];
    const tributaryArgs = [...profileArgs, CLI, 'sync', '--once', '-c', configFile, '--no-progress'];
    const tributary = await measure({
      tool: 'tributary',
      data,
      dir,
      edge: edgeTributary,
      core: coreTributary,
      command: process.execPath,
      args: tributaryArgs,
      env: options.nodeOptions === undefined ? process.env : { ...process.env, NODE_OPTIONS: options.nodeOptions },
      display: [
        ...(options.nodeOptions === undefined ? [] : [`NODE_OPTIONS=${options.nodeOptions}`]),
        'node',
        ...profileArgs,
        relative(ROOT, CLI),
        ...tributaryArgs.slice(profileArgs.length + 1),
      ]
        .map(shellQuote)
        .join(' '),
      corePrefix: `${SITE}/${data.bucket}/`,
      timeoutMs,
      journal: journalDir,
    });
    await stopServer(coreTributary);
    await stopServer(edgeTributary);

    // rclone into another fresh core server (not for the RSS-only run).
    const runRclone = async (tool: 'rclone' | 'rclone-multipart', extraFlags: readonly string[]): Promise<ToolResult> => {
      const edgeRclone = await freshEdge(tool);
      const coreRclone = await start(`core-${tool}`, [CORE_BUCKET]);
      const vars = rcloneEnv(edgeRclone, coreRclone);
      const args = ['copy', `edge:${data.bucket}`, `core:${CORE_BUCKET}`, ...RCLONE_FLAGS, ...extraFlags];
      const result = await measure({
        tool,
        data,
        dir,
        edge: edgeRclone,
        core: coreRclone,
        command: 'rclone',
        args,
        env: { ...withoutCaBundle(process.env), ...vars },
        display: ['env', '-u', 'AWS_CA_BUNDLE', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), 'rclone', ...args]
          .map(shellQuote)
          .join(' '),
        corePrefix: '',
        timeoutMs,
      });
      await stopServer(coreRclone);
      await stopServer(edgeRclone);
      return result;
    };
    const rclone = data.id === 'rss' ? undefined : await runRclone('rclone', []);
    // For reference on large objects: rclone made to send 16 MiB parts, as Tributary does (s3rver's
    // multipart assembly costs server CPU that competes with the copier for the two cores).
    const rcloneMultipart = data.path === 'multipart' ? await runRclone('rclone-multipart', RCLONE_MULTIPART_FLAGS) : undefined;

    // For reference: the least a Node.js copier can do, with the SHA-256 in the metadata as
    // Tributary must (hash-first) and without it (stream). Shows what is Tributary's own cost and
    // what any Node.js copier pays on these two shared cores.
    const runFloor = async (tool: 'node-floor' | 'node-floor-stream'): Promise<ToolResult> => {
      const edgeFloor = await freshEdge(tool);
      const coreFloor = await start(`core-${tool}`, [CORE_BUCKET]);
      const args = [
        NODE_FLOOR,
        edgeFloor.endpoint,
        data.bucket,
        coreFloor.endpoint,
        CORE_BUCKET,
        tool === 'node-floor' ? 'hash-first' : 'stream',
      ];
      const result = await measure({
        tool,
        data,
        dir,
        edge: edgeFloor,
        core: coreFloor,
        command: process.execPath,
        args,
        env: process.env,
        display: ['node', relative(ROOT, NODE_FLOOR), ...args.slice(1)].map(shellQuote).join(' '),
        corePrefix: 'floor/',
        timeoutMs,
      });
      await stopServer(coreFloor);
      await stopServer(edgeFloor);
      return result;
    };
    const floors = data.id === 'rss' ? [] : [await runFloor('node-floor'), await runFloor('node-floor-stream')];

    const partial = {
      id: data.id,
      title: data.title,
      objects: data.objects.length,
      bytes: data.totalBytes,
      tributaryPath: data.path,
      tributaryTransfer: TRIBUTARY_TRANSFER,
      seedSeconds,
      tributary,
      ...(rclone === undefined
        ? {}
        : {
            rclone,
            ratios: {
              wall: tributary.wallS / rclone.wallS,
              cpu: tributary.cpuS / rclone.cpuS,
              rss: tributary.peakRssMB / rclone.peakRssMB,
            },
          }),
      ...(rcloneMultipart === undefined ? {} : { rcloneMultipart }),
      ...(floors.length === 0 ? {} : { floors }),
      ...(hashCost === undefined || data.id === 'rss' ? {} : { hashing: hashShare(hashCost, data.path, data.totalBytes, tributary.cpuS) }),
    };
    return { ...partial, targets: evaluateTargets(partial) };
  } finally {
    await Promise.allSettled(started.map((server) => stopServer(server)));
    rmSync(dir, { recursive: true, force: true });
    log(`  servers stopped, ${relative(root, dir)} removed`);
  }
}

interface Startup {
  readonly wallS: number;
  readonly cpuS: number;
  readonly peakRssMB: number;
}

async function measureStartup(root: string): Promise<{ tributary: Startup; rclone: Startup }> {
  const once = async (command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Startup[]> => {
    const runs: Startup[] = [];
    for (let i = 0; i < 3; i += 1) {
      const run = await runTimed({ command, args, env, cwd: ROOT, timeFile: join(root, 'time-startup.txt'), timeoutMs: 60_000 });
      if (run.exitCode !== 0) throw new Error(`${run.command} failed: ${run.stderr}`);
      runs.push({ wallS: run.wallS, cpuS: run.cpuS, peakRssMB: (run.maxRssKiB * 1024) / 1e6 });
    }
    return runs;
  };
  const median = (runs: Startup[]): Startup => {
    const pick = (f: (s: Startup) => number) => [...runs.map(f)].sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? NaN;
    return { wallS: pick((s) => s.wallS), cpuS: pick((s) => s.cpuS), peakRssMB: pick((s) => s.peakRssMB) };
  };
  return {
    tributary: median(await once(process.execPath, [CLI, '--version'], process.env)),
    rclone: median(await once('rclone', ['version'], withoutCaBundle(process.env))),
  };
}

function gitCommit(): string {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : 'unknown';
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const nodeCommand = ['node', ...process.execArgv, relative(process.cwd(), process.argv[1] ?? 'bench/run.ts'), ...argv]
    .map(shellQuote)
    .join(' ');
  const invokedAs =
    process.env['npm_lifecycle_event'] === 'bench'
      ? `npm run bench${argv.length > 0 ? ` -- ${argv.map(shellQuote).join(' ')}` : ''}`
      : nodeCommand;
  console.log(`command: ${invokedAs}`);
  if (invokedAs !== nodeCommand) console.log(`         (${nodeCommand})`);

  const options = parseOptions(argv);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (!existsSync(CLI)) throw new Error(`${relative(ROOT, CLI)} is missing: run npm run build first (npm run bench does)`);
  const tools = ensureTools(log);
  const cpuList = cpus();
  const machine = {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 1e9),
    node: process.version,
    rclone: tools.rclone,
    time: tools.time,
    gitCommit: gitCommit(),
  };
  console.log(
    `started ${new Date().toISOString()} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGB} GB; node ${machine.node}; ${machine.rclone}; git ${machine.gitCommit}`,
  );
  if (options.profileDir !== undefined)
    console.log(`PROFILING Tributary into ${options.profileDir}: its figures include the profiler's overhead`);
  if (options.nodeOptions !== undefined) console.log(`Tributary runs with NODE_OPTIONS=${options.nodeOptions}`);
  console.log(
    `data sets: ${options.datasets.join(', ')}${options.quick ? ' (--quick: SMOKE RUN, scaled down ×10)' : ''}; MB = 10^6 bytes, GB = 10^9 bytes, CPU = user + sys`,
  );

  const report: BenchReport = {
    command: nodeCommand,
    invokedAs,
    startedAt: new Date().toISOString(),
    quick: options.quick,
    machine,
    datasets: [],
    errors: [],
  };
  tempRoot = mkdtempSync(join(tmpdir(), 'tributary-bench-'));

  // Measured first, while no server runs: the per-byte cost of the hashes Tributary computes.
  let hashCost: HashCost | undefined;
  if (options.datasets.some((id) => id !== 'rss')) {
    hashCost = measureHashCost();
    console.log(formatHashCost(hashCost));
    Object.assign(report, { hashCost });
  }

  // What starting the process costs (loading code, no work): part of every figure below.
  const startup = await measureStartup(tempRoot);
  Object.assign(report, { startup });
  console.log(
    `process start-up alone (median of 3): tributary (node ${relative(ROOT, CLI)} --version) ${fmt(startup.tributary.cpuS, 2)} CPU-s, ${fmt(startup.tributary.wallS, 2)} s, ` +
      `${fmt(startup.tributary.peakRssMB, 1)} MB RSS; rclone (rclone version) ${fmt(startup.rclone.cpuS, 2)} CPU-s, ${fmt(startup.rclone.wallS, 2)} s, ${fmt(startup.rclone.peakRssMB, 1)} MB RSS`,
  );

  for (const id of options.datasets) {
    abort.signal.throwIfAborted();
    const data = buildDataset(id, options.quick);
    try {
      const result = await runDataset(data, tempRoot, options, hashCost);
      report.datasets.push(result);
      console.log(`\n${formatDataset(result)}`);
    } catch (error) {
      if (abort.signal.aborted) throw error;
      const message = `(${id}) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      report.errors.push(message);
      console.log(`\n${message}`);
    }
  }

  if (options.events) {
    try {
      const events = await runEventsBench(join(tempRoot, 'events'), CLI, options.quick, log, abort.signal);
      Object.assign(report, { events });
      console.log(`\n${formatEvents(events)}`);
    } catch (error) {
      if (abort.signal.aborted) throw error;
      const message = `(events) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      report.errors.push(message);
      console.log(`\n${message}`);
    }
  }

  console.log('\nsummary');
  for (const result of report.datasets) {
    for (const check of result.targets) {
      const verdict = check.pass === null ? 'REPORT' : check.pass ? 'PASS' : 'FAIL';
      console.log(`  (${result.id}) ${verdict.padEnd(6)} ${check.target}: ${check.detail}`);
    }
  }
  for (const error of report.errors) console.log(`  ERROR ${error.split('\n')[0] ?? ''}`);
  if (options.quick) console.log('  (--quick: smoke run at one tenth of the scale; not the figures to quote)');

  const finished: BenchReport = { ...report, finishedAt: new Date().toISOString() };
  if (options.jsonFile !== undefined) {
    writeFileSync(options.jsonFile, `${JSON.stringify(finished, null, 2)}\n`);
    console.log(`results written to ${options.jsonFile}`);
  }
  const incomplete = report.datasets.some((d) => !d.tributary.ok || (d.rclone !== undefined && !d.rclone.ok));
  return report.errors.length > 0 || incomplete ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  exitCode = abort.signal.aborted ? 130 : 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
