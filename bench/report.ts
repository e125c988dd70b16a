/**
 * Results of the benchmark and their text form. Units: MB = 1,000,000 bytes, GB = 10^9 bytes
 * (rates and RSS alike); CPU seconds = user + system.
 */
import type { HashCost, HashShare } from './hashing.js';
import type { Listing, TransferPath } from './datasets.js';

export const RSS_TARGET_MB = 200;
export const CPU_PER_OBJECT_TARGET = 1.5;

export interface ToolResult {
  /**
   * rclone-multipart: rclone with 16 MiB multipart uploads, as Tributary sends large objects.
   * node-floor, node-floor-stream: bench/node-floor.mjs in its hash-first and stream modes.
   */
  readonly tool: 'tributary' | 'rclone' | 'rclone-multipart' | 'node-floor' | 'node-floor-stream';
  readonly command: string;
  readonly exitCode: number | null;
  /** Exit 0 and every object in the core bucket with the right total size. */
  readonly ok: boolean;
  readonly landed: Listing;
  readonly wallS: number;
  readonly userS: number;
  readonly sysS: number;
  readonly cpuS: number;
  readonly peakRssMB: number;
  readonly objectsPerS: number;
  readonly mbPerS: number;
  readonly cpuMsPerObject: number;
  readonly cpuSPerGB: number;
  /** CPU the two s3rver processes used during the run (they share the machine's cores). */
  readonly serverCpuS: { readonly edge: number; readonly core: number };
  /** Tributary's one summary line (stdout). */
  readonly summary?: string;
  /** Tail of stderr when the run failed. */
  readonly errorTail?: string;
}

export interface TargetCheck {
  readonly target: string;
  /** null: reported, no pass/fail. */
  readonly pass: boolean | null;
  readonly detail: string;
}

export interface DatasetResult {
  readonly id: string;
  readonly title: string;
  readonly objects: number;
  readonly bytes: number;
  readonly tributaryPath: TransferPath;
  readonly tributaryTransfer: Readonly<Record<string, unknown>>;
  readonly seedSeconds: number;
  readonly tributary: ToolResult;
  readonly rclone?: ToolResult;
  readonly ratios?: { readonly wall: number; readonly cpu: number; readonly rss: number };
  /** Large objects only, for reference (no target): rclone made to upload 16 MiB parts too. */
  readonly rcloneMultipart?: ToolResult;
  /** For reference (no target): the least a Node.js copier can do (bench/node-floor.mjs). */
  readonly floors?: readonly ToolResult[];
  readonly hashing?: HashShare;
  readonly targets: readonly TargetCheck[];
}

export interface BenchReport {
  readonly command: string;
  readonly invokedAs: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly quick: boolean;
  readonly machine: Readonly<Record<string, unknown>>;
  readonly hashCost?: HashCost;
  readonly datasets: DatasetResult[];
  readonly errors: string[];
}

export function toolResult(
  tool: ToolResult['tool'],
  run: { command: string; exitCode: number | null; wallS: number; userS: number; sysS: number; cpuS: number; maxRssKiB: number },
  objects: number,
  bytes: number,
  landed: Listing,
  serverCpuS: ToolResult['serverCpuS'],
  extra: { summary?: string; errorTail?: string },
): ToolResult {
  const ok = run.exitCode === 0 && landed.count === objects && landed.bytes === bytes;
  return {
    tool,
    command: run.command,
    exitCode: run.exitCode,
    ok,
    landed,
    wallS: run.wallS,
    userS: run.userS,
    sysS: run.sysS,
    cpuS: run.cpuS,
    peakRssMB: (run.maxRssKiB * 1024) / 1e6,
    objectsPerS: objects / run.wallS,
    mbPerS: bytes / 1e6 / run.wallS,
    cpuMsPerObject: (run.cpuS * 1000) / objects,
    cpuSPerGB: run.cpuS / (bytes / 1e9),
    serverCpuS,
    ...extra,
  };
}

/** Every copier's result for a data set, Tributary first, in the order they ran. */
function toolsOf(result: Omit<DatasetResult, 'targets'>): ToolResult[] {
  return [result.tributary, result.rclone, result.rcloneMultipart, ...(result.floors ?? [])].filter(
    (t): t is ToolResult => t !== undefined,
  );
}

export function evaluateTargets(result: Omit<DatasetResult, 'targets'>): TargetCheck[] {
  const { tributary: t, rclone: r } = result;
  const checks: TargetCheck[] = [];
  if (r !== undefined) {
    checks.push({
      target: 'wall time at most rclone’s',
      pass: t.wallS <= r.wallS,
      detail: `${fmt(t.wallS, 2)} s vs ${fmt(r.wallS, 2)} s (${fmt(t.wallS / r.wallS, 2)}×)`,
    });
    // The targets: CPU per object on the small objects (a), CPU per GB reported on the
    // large ones (c); the mixed set (b) has only the wall and RSS targets, its CPU is reported.
    if (result.id === 'a') {
      checks.push({
        target: `CPU per object at most ${CPU_PER_OBJECT_TARGET}× rclone’s`,
        pass: t.cpuMsPerObject <= CPU_PER_OBJECT_TARGET * r.cpuMsPerObject,
        detail: `${fmt(t.cpuMsPerObject, 3)} ms vs ${fmt(r.cpuMsPerObject, 3)} ms (${fmt(t.cpuMsPerObject / r.cpuMsPerObject, 2)}×)`,
      });
    } else {
      checks.push({
        target: result.id === 'c' ? 'CPU per GB (reported, with the hashing share)' : 'CPU per GB (reported)',
        pass: null,
        detail:
          `${fmt(t.cpuSPerGB, 2)} CPU-s/GB vs rclone ${fmt(r.cpuSPerGB, 2)} (${fmt(t.cpuSPerGB / r.cpuSPerGB, 2)}×)` +
          (result.hashing ? `; hashing ≈ ${fmt(result.hashing.share * 100, 0)} % of Tributary’s CPU` : ''),
      });
    }
  }
  checks.push({ target: `peak RSS under ${RSS_TARGET_MB} MB`, pass: t.peakRssMB < RSS_TARGET_MB, detail: `${fmt(t.peakRssMB, 1)} MB` });
  if (!t.ok)
    checks.push({
      target: 'Tributary copy complete',
      pass: false,
      detail: `exit ${String(t.exitCode)}, ${t.landed.count} objects / ${t.landed.bytes} bytes in the core`,
    });
  for (const other of toolsOf(result).slice(1)) {
    if (!other.ok) {
      checks.push({
        target: `${other.tool} copy complete`,
        pass: false,
        detail: `exit ${String(other.exitCode)}, ${other.landed.count} objects / ${other.landed.bytes} bytes in the core`,
      });
    }
  }
  return checks;
}

export function fmt(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatDataset(result: DatasetResult): string {
  const header = [
    'tool',
    'wall s',
    'objects/s',
    'MB/s',
    'CPU s',
    'CPU ms/object',
    'CPU s/GB',
    'peak RSS MB',
    'server CPU s (edge+core)',
    'complete',
  ];
  const row = (t: ToolResult) => [
    t.tool,
    fmt(t.wallS, 2),
    fmt(t.objectsPerS, 1),
    fmt(t.mbPerS, 2),
    fmt(t.cpuS, 2),
    fmt(t.cpuMsPerObject, 3),
    fmt(t.cpuSPerGB, 2),
    fmt(t.peakRssMB, 1),
    `${fmt(t.serverCpuS.edge, 1)}+${fmt(t.serverCpuS.core, 1)}`,
    t.ok ? 'yes' : `NO (${t.landed.count} objects)`,
  ];
  const lines = [
    `(${result.id}) ${result.title}: ${result.objects.toLocaleString('en-US')} objects, ${fmt(result.bytes / 1e6, 1)} MB` +
      ` (seeded in ${fmt(result.seedSeconds, 1)} s; Tributary path: ${result.tributaryPath}, transfer ${JSON.stringify(result.tributaryTransfer)})`,
    table(header, toolsOf(result).map(row)),
  ];
  if (result.ratios) {
    lines.push(
      `tributary/rclone: wall ${fmt(result.ratios.wall, 2)}×, CPU ${fmt(result.ratios.cpu, 2)}×, peak RSS ${fmt(result.ratios.rss, 2)}×`,
    );
  }
  if (result.rcloneMultipart) {
    const m = result.rcloneMultipart;
    lines.push(
      `(rclone-multipart = rclone with --s3-upload-cutoff 16M --s3-chunk-size 16M, for reference: plain rclone sends a 64 MiB object as one PUT;` +
        ` tributary/rclone-multipart: wall ${fmt(result.tributary.wallS / m.wallS, 2)}×, CPU ${fmt(result.tributary.cpuS / m.cpuS, 2)}×)`,
    );
  }
  for (const floor of result.floors ?? []) {
    const r = result.rclone;
    lines.push(
      `(${floor.tool}: ${floor.tool === 'node-floor' ? 'SHA-256 in the metadata, so hashed before the PUT, as Tributary must' : 'streamed and hashed on the way, no metadata'};` +
        ` no journal, signature, retry or check) tributary/${floor.tool}: wall ${fmt(result.tributary.wallS / floor.wallS, 2)}×, CPU ${fmt(result.tributary.cpuS / floor.cpuS, 2)}×` +
        (r === undefined ? '' : `; ${floor.tool}/rclone: wall ${fmt(floor.wallS / r.wallS, 2)}×, CPU ${fmt(floor.cpuS / r.cpuS, 2)}×`),
    );
  }
  if (result.hashing) {
    const h = result.hashing;
    lines.push(
      `hashing: ${fmt(h.bytes / 1e6, 1)} MB × (SHA-256 ×${h.sha256Passes} + MD5 ×${h.md5Passes}) ≈ ${fmt(h.hashCpuS, 3)} CPU-s = ${fmt(h.share * 100, 1)} % of Tributary’s ${fmt(result.tributary.cpuS, 2)} CPU-s` +
        `\n  (assumes ${h.assumption})`,
    );
  }
  for (const check of result.targets) {
    const verdict = check.pass === null ? 'REPORT' : check.pass ? 'PASS' : 'FAIL';
    lines.push(`  ${verdict.padEnd(6)} ${check.target}: ${check.detail}`);
  }
  if (result.tributary.summary) lines.push(`tributary said: ${result.tributary.summary}`);
  for (const t of toolsOf(result)) {
    if (t.errorTail) lines.push(`${t.tool} stderr (tail):\n${t.errorTail}`);
  }
  return lines.join('\n');
}

export function formatHashCost(cost: HashCost): string {
  const rate = (perByte: number) => `${fmt(perByte * 1e9, 2)} CPU-s/GB (${fmt(1 / perByte / 1e6, 0)} MB/s)`;
  return `hash cost on this machine (node:crypto, ${cost.bufferBytes / 1024 / 1024} MiB, median of ${cost.repetitions}): SHA-256 ${rate(cost.sha256PerByte)}, MD5 ${rate(cost.md5PerByte)}`;
}
