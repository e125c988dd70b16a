/**
 * One log line per object that fails, is retried, goes dead, is superseded or vanished, with its bucket, key,
 * error code, attempt and next attempt: what an operator greps for. Releases for a link that is
 * down or throttled are debug lines (the outage itself is logged once, by the circuit breaker),
 * and a shutdown's releases are not failures at all.
 */
import type { Logger } from '../observability/logger.js';
import type { RunnerHooks } from '../schedule/runner.js';

export function objectLogHooks(log: Logger): RunnerHooks {
  return {
    onFailed(job, error, outcome, nextAttemptAt) {
      const line = {
        bucket: job.bucket,
        key: job.key,
        code: error.code,
        attempt: job.attempts + 1,
        ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(nextAttemptAt).toISOString() }),
        err: error.message,
      };
      switch (outcome) {
        case 'dead':
          log.error(line, 'object is dead');
          return;
        case 'retry':
          log.warn(line, `object failed; next attempt at ${line.nextAttemptAt ?? 'once the scan sees it again'}`);
          return;
        case 'superseded':
          log.info(line, 'object superseded: a newer version of the key replaces it');
          return;
        case 'vanished':
          log.info(line, 'object vanished: deleted at the edge before it could be read (not retried, not a failure)');
          return;
        case 'released':
          if (error.errorClass !== 'cancelled') log.debug(line, 'object deferred: the endpoint is unreachable or throttling');
          return;
      }
    },
  };
}
