import { stringify } from 'yaml';

import { redactSecrets } from '../../config/redact.js';
import { configWarnings } from '../../config/warnings.js';
import { formatBytes, formatDuration } from '../../core/units.js';
import { EXIT, loadConfigOrFail, type Output } from '../context.js';

/** Prints the effective config, secrets redacted, with sizes and durations in human units. */
export function configCheck(file: string, output: Output): number {
  const config = loadConfigOrFail(file);
  const shown = redactSecrets({
    ...config,
    edge: { ...config.edge, requestTimeout: formatDuration(config.edge.requestTimeout) },
    core: { ...config.core, requestTimeout: formatDuration(config.core.requestTimeout) },
    transfer: {
      ...config.transfer,
      partSize: formatBytes(config.transfer.partSize),
      multipartThreshold: formatBytes(config.transfer.multipartThreshold),
      bufferThreshold: formatBytes(config.transfer.bufferThreshold),
      memoryLimit: formatBytes(config.transfer.memoryLimit),
      retryBase: formatDuration(config.transfer.retryBase),
      retryCap: formatDuration(config.transfer.retryCap),
    },
    scan: { ...config.scan, interval: formatDuration(config.scan.interval) },
    bandwidth: config.bandwidth.map((w) => ({ ...w, limit: Number.isFinite(w.limit) ? `${formatBytes(w.limit)}/s` : 'unlimited' })),
  });
  output.out(`# ${file}: valid`);
  for (const warning of configWarnings(config)) output.out(`# warning: ${warning}`);
  output.out(stringify(shown, { lineWidth: 0 }).trimEnd());
  return EXIT.ok;
}
