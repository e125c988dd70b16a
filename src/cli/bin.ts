#!/usr/bin/env node
/**
 * The `tributary` command. Thin: parse, load config, call the command, map the outcome to the
 * exit codes of the contract (0 done, 1 work incomplete, 2 bad usage or config). The only module
 * that calls process.exit.
 */
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';

import { Command, CommanderError, Option } from 'commander';

import { coerceError } from '../core/errors.js';
import { parseDuration } from '../core/units.js';
import { createLogger } from '../observability/logger.js';
import { CommandFailure, EXIT, exitCodeFor, processOutput } from './context.js';

// We pin the SDK to releases that support Node 20; its notice about future releases is for us, not
// for the operator reading the agent's output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** First signal: graceful stop. Second: force. */
function shutdownSignals(): { stop: AbortController; force: AbortController } {
  const stop = new AbortController();
  const force = new AbortController();
  // Every in-flight request listens to these: many listeners are expected, not a leak.
  setMaxListeners(0, stop.signal, force.signal);
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      process.stderr.write(`\n${signal}: finishing in-flight transfers (send again to force)\n`);
      stop.abort(new Error(signal));
    } else {
      force.abort(new Error(signal));
      setTimeout(() => process.exit(EXIT.incomplete), 3000).unref();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { stop, force };
}

function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new CommandFailure(`expected a duration such as 30s or 5m, got "${value}"`, EXIT.usage);
  return ms;
}

const configOption = () => new Option('-c, --config <file>', 'config file').default('tributary.yaml');
const logLevelOption = () =>
  new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

// Each verb's module is loaded when that verb runs: start-up is paid on every `sync --once`, and
// the modules of the other verbs (the fleet view, the metrics of the agent) are not its business.
async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('tributary')
    .description('Replicates objects one way, continuously, from edge S3 stores into one core S3 bucket.')
    .version(version)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('agent')
    .description('run the daemon: scan every scan.interval and transfer continuously')
    .addOption(configOption())
    .addOption(logLevelOption().default('info'))
    .action(async (opts: { config: string; logLevel: string }) => {
      const { stop, force } = shutdownSignals();
      const { runAgent } = await import('./commands/agent.js');
      exitCode = await runAgent(opts.config, createLogger({ level: opts.logLevel }), { stop: stop.signal, force: force.signal });
    });

  program
    .command('sync')
    .description('one pass: scan, then transfer until everything found has landed or failed')
    .requiredOption('--once', 'run one pass and exit (the only mode of sync)')
    .addOption(configOption())
    .addOption(logLevelOption().default('warn'))
    // The default is shown as a config writes it: a bare 60000 would read as 60000 seconds.
    .addOption(
      new Option('--retry-window <duration>', 'wait for retries due within this window').argParser(durationOption).default(60_000, '60s'),
    )
    .addOption(
      new Option('--max-outage <duration>', 'give up when an endpoint stays unreachable this long')
        .argParser(durationOption)
        .default(60_000, '60s'),
    )
    .option('--no-progress', 'no progress bar even on a terminal')
    .action(async (opts: { config: string; logLevel: string; retryWindow: number; maxOutage: number; progress: boolean }) => {
      const { stop, force } = shutdownSignals();
      const { syncOnce } = await import('./commands/sync.js');
      exitCode = await syncOnce(
        {
          configFile: opts.config,
          interactive: opts.progress && process.stderr.isTTY,
          retryWindowMs: opts.retryWindow,
          maxOutageMs: opts.maxOutage,
          signal: stop.signal,
          forceSignal: force.signal,
        },
        processOutput,
        createLogger({ level: opts.logLevel }),
      );
    });

  program
    .command('status')
    .description('local backlog by state and priority, oldest pending age, latest errors')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { config: string; json?: boolean }) => {
      const { status } = await import('./commands/status.js');
      exitCode = status(opts.config, opts.json === true, processOutput);
    });

  program
    .command('verify')
    .description('audit: every edge object in scope is in the core and unchanged since it landed (--repair: and put it right)')
    .addOption(configOption())
    .option('--deep', 're-read both sides and compare SHA-256')
    .option('--retained', 'also check the core copies of the objects edge retention deleted from the edge')
    .option('--repair', 'land again what is missing or different, then check it again (owns the journal: not beside a running agent)')
    .option('--json', 'machine-readable output')
    .addOption(logLevelOption().default('warn'))
    .action(async (opts: { config: string; deep?: boolean; retained?: boolean; repair?: boolean; json?: boolean; logLevel: string }) => {
      const { stop } = shutdownSignals();
      const { verify } = await import('./commands/verify.js');
      const options = {
        deep: opts.deep === true,
        json: opts.json === true,
        retained: opts.retained === true,
        repair: opts.repair === true,
      };
      exitCode = await verify(opts.config, options, processOutput, createLogger({ level: opts.logLevel }), stop.signal);
    });

  program
    .command('retry')
    .description('re-queue dead objects with fresh attempts (vanished and forgotten ones are not touched)')
    .addOption(configOption())
    .option('--code <code>', 'only objects that died with this error code')
    .action(async (opts: { config: string; code?: string }) => {
      const { retry } = await import('./commands/retry.js');
      exitCode = retry(opts.config, opts.code, processOutput);
    });

  program
    .command('forget')
    .description('acknowledge dead objects that will never land: they become forgotten, with the reason recorded')
    .addOption(configOption())
    .requiredOption('--reason <text>', 'why they will never land (recorded in the journal, shown by status)')
    .option('--code <code>', 'only objects that died with this error code')
    .option('--key <bucket/key>', 'only this object')
    .action(async (opts: { config: string; reason: string; code?: string; key?: string }) => {
      const { forget } = await import('./commands/forget.js');
      exitCode = forget(opts.config, { reason: opts.reason, code: opts.code, key: opts.key }, processOutput);
    });

  program
    .command('fleet')
    .description('one row per site from the heartbeats in the core bucket; exit 1 when any site is not healthy')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { config: string; json?: boolean }) => {
      const { stop } = shutdownSignals();
      const { fleet } = await import('./commands/fleet.js');
      exitCode = await fleet(opts.config, opts.json === true, processOutput, stop.signal);
    });

  const config = program.command('config').description('configuration helpers');
  config
    .command('check')
    .description('validate the config and print it, secrets redacted')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const { configCheck } = await import('./commands/config-check.js');
      exitCode = configCheck(opts.config, processOutput);
    });

  program
    .command('demo')
    .description('start an edge and a core S3 server on loopback, seed site data, replicate it, show what landed')
    .option('--keep', 'keep the servers running until interrupted')
    .addOption(logLevelOption().default('warn'))
    .action(async (opts: { keep?: boolean; logLevel: string }) => {
      const { stop } = shutdownSignals();
      // Loaded on demand: the demo pulls in s3rver and the AWS SDK, which no other verb needs at start.
      const { runDemo } = await import('./commands/demo.js');
      exitCode = await runDemo({ keep: opts.keep === true, signal: stop.signal }, processOutput, createLogger({ level: opts.logLevel }));
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CommandFailure) {
      process.stderr.write(`tributary: ${error.message}\n`);
    } else {
      // The code too: docs/errors.md says what each means and what to do.
      const err = coerceError(error);
      process.stderr.write(`tributary: ${err.code}: ${err.message}\n`);
    }
    return exitCodeFor(error);
  }
}

// `tributary status | head`: once the reader is gone, the rest of the output goes nowhere and the
// command still ends with its own exit code (an unhandled EPIPE would end it with a stack trace).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // Leftover keep-alive sockets or timers must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (error: unknown) => {
    process.stderr.write(`tributary: ${String(error)}\n`);
    process.exit(EXIT.incomplete);
  },
);
