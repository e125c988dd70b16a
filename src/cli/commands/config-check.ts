import { stringify } from 'yaml';

import { inConfigUnits } from '../../config/config-units.js';
import { redactSecrets } from '../../config/redact.js';
import { configWarnings } from '../../config/warnings.js';
import { readCaBundle } from '../../s3/endpoint-settings.js';
import { EXIT, loadConfigOrFail, type Output } from '../context.js';

/** Prints the effective config, secrets redacted, in the units a config file writes (it parses back). */
export function configCheck(file: string, output: Output): number {
  const config = loadConfigOrFail(file);
  // The CA files are read when the endpoints are built: a missing one is a config error here too.
  readCaBundle(config.edge, 'edge.caBundle');
  readCaBundle(config.core, 'core.caBundle');
  const shown = redactSecrets(inConfigUnits(config));
  output.out(`# ${file}: valid`);
  for (const warning of configWarnings(config)) output.out(`# warning: ${warning}`);
  output.out(stringify(shown, { lineWidth: 0 }).trimEnd());
  return EXIT.ok;
}
