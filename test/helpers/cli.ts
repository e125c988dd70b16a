/**
 * Runs the built CLI (dist/cli/bin.js, built by `npm test` before the tests) as a real process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

const live = new Set<ChildProcess>();
// A failed test must not leave an agent running: it would keep the test file alive until its timeout.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Kills a spawned CLI still running when the test ends (register with t.after). */
export function killIfRunning(proc: CliProcess): void {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
}

export function spawnCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const done = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const proc = spawnCli(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  try {
    return await proc.done;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for the running agent to log `message` (JSON logs at info level); returns that line. */
export async function waitForLog(agent: CliProcess, message: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = agent
      .stderr()
      .split('\n')
      .find((l) => l.includes(`"msg":"${message}"`));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    assert.ok(Date.now() < deadline, `no "${message}" in: ${agent.stderr()}`);
    assert.equal(agent.child.exitCode, null, agent.stderr());
    await sleep(50);
  }
}

/** The `host:port` the agent's HTTP listener bound (the tests ask for port 0). */
export async function listeningAddress(agent: CliProcess): Promise<string> {
  return (await waitForLog(agent, 'http listening'))['address'] as string;
}
