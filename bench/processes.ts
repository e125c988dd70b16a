/**
 * Child processes for the benchmark: installing the peer tools, running a command under GNU time
 * (wall, user, sys, peak RSS), reading a running process's CPU time from /proc, and killing
 * everything we started when the run ends or fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

/** Process groups we started (each child is spawned detached, as its own group leader). */
const live = new Set<ChildProcess>();

/** Kills every process group this module started and that is still running. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

/** The environment rclone 1.60 needs: it refuses to start when AWS_CA_BUNDLE is set. */
export function withoutCaBundle(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy['AWS_CA_BUNDLE'];
  return copy;
}

function runs(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', env });
  return result.error === undefined && result.status === 0;
}

function aptGet(args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    ok: result.error === undefined && result.status === 0,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`,
  };
}

/** `apt-get install -y <pkg>`; on failure `apt-get update` once and try again. */
function aptInstall(pkg: string, log: (line: string) => void): void {
  log(`installing ${pkg} with apt-get install -y ${pkg}`);
  let attempt = aptGet(['install', '-y', pkg]);
  if (!attempt.ok) {
    log(`apt-get install failed; running apt-get update and trying again`);
    aptGet(['update']);
    attempt = aptGet(['install', '-y', pkg]);
  }
  if (!attempt.ok) {
    throw new Error(`could not install ${pkg} with apt-get:\n${attempt.output.split('\n').slice(-15).join('\n')}`);
  }
}

export interface ToolVersions {
  readonly rclone: string;
  readonly time: string;
}

/** Makes sure rclone and GNU time are installed; returns their versions. */
export function ensureTools(log: (line: string) => void): ToolVersions {
  const rcloneEnv = withoutCaBundle(process.env);
  if (!runs('rclone', ['version'], rcloneEnv)) aptInstall('rclone', log);
  if (!existsSync(GNU_TIME)) aptInstall('time', log);
  const rclone = spawnSync('rclone', ['version'], { env: rcloneEnv, encoding: 'utf8' });
  if (rclone.status !== 0) throw new Error(`rclone does not start: ${rclone.stderr}`);
  const time = spawnSync(GNU_TIME, ['--version'], { encoding: 'utf8' });
  return {
    rclone: (rclone.stdout.split('\n')[0] ?? '').trim(),
    time: (`${time.stdout}${time.stderr}`.split('\n')[0] ?? '').trim(),
  };
}

export interface TimedRun {
  /** The command line as run (without the GNU time wrapper). */
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Wall seconds, as GNU time measured them. */
  readonly wallS: number;
  readonly userS: number;
  readonly sysS: number;
  readonly cpuS: number;
  /** Peak resident set size, KiB (GNU time %M). */
  readonly maxRssKiB: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Quotes one argument for display in a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

const TIME_LINE = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/;

/**
 * Runs `command args` under `/usr/bin/time -f '%e %U %S %M'` and returns its measurements.
 * The child is its own process group so that a timeout or cleanup kills it and its children.
 */
export async function runTimed(options: {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly timeFile: string;
  readonly timeoutMs: number;
}): Promise<TimedRun> {
  const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', options.timeFile, options.command, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep the tail only: a failing run can log a lot.
    stderr = (stderr + chunk).slice(-200_000);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, options.timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve([code, sig]));
  }).finally(() => {
    clearTimeout(timer);
    live.delete(child);
  });
  const timeLines = existsSync(options.timeFile) ? readFileSync(options.timeFile, 'utf8').trim().split('\n') : [];
  const match = TIME_LINE.exec((timeLines.at(-1) ?? '').trim());
  const [wallS, userS, sysS, maxRssKiB] = match
    ? [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])]
    : [NaN, NaN, NaN, NaN];
  return {
    command: [options.command, ...options.args].map(shellQuote).join(' '),
    exitCode,
    signal,
    timedOut,
    wallS,
    userS,
    sysS,
    cpuS: Math.round((userS + sysS) * 1000) / 1000,
    maxRssKiB,
    stdout,
    stderr,
  };
}

let clockTicks: number | undefined;

/** CPU seconds (user + system) a running process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  if (clockTicks === undefined) {
    const getconf = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const parsed = Number(getconf.stdout?.trim());
    clockTicks = Number.isFinite(parsed) && parsed > 0 ? parsed : 100;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return NaN;
  }
}
