import { stringify } from 'yaml';

import { inConfigUnits } from '../../config/config-units.js';
import { ConfigError, loadConfigFile } from '../../config/load.js';
import { redactSecrets } from '../../config/redact.js';
import type { Config } from '../../config/schema.js';
import { configWarnings } from '../../config/warnings.js';
import { readCaBundle } from '../../config/ca-bundle.js';
import { CommandFailure, EXIT, loadFleetConfigOrFail, type Output } from '../context.js';

/** A file without these two but with `core` holds no agent config, only what `tributary fleet` needs. */
const FLEET_ONLY = ['site: required', 'edge: required'];

/**
 * Prints the effective config, secrets redacted, in the units a config file writes (it parses
 * back). A file with only `core` (and `fleet`) is checked as the fleet view's config.
 */
export function configCheck(file: string, output: Output): number {
  let config: Config;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const fleetOnly = FLEET_ONLY.every((p) => error.problems.includes(p)) && !error.problems.includes('core: required');
    if (!fleetOnly) {
      throw new CommandFailure(error.message, EXIT.usage);
    }
    return checkFleetConfig(file, output);
  }
  // The CA files are read when the endpoints are built: a missing one is a config error here too.
  readCaBundle(config.edge, 'edge.caBundle');
  readCaBundle(config.core, 'core.caBundle');
  const shown = redactSecrets(inConfigUnits(config));
  output.out(`# ${file}: valid`);
  for (const warning of configWarnings(config)) output.out(`# warning: ${warning}`);
  output.out(stringify(shown, { lineWidth: 0 }).trimEnd());
  return EXIT.ok;
}

function checkFleetConfig(file: string, output: Output): number {
  const fleet = loadFleetConfigOrFail(file);
  readCaBundle(fleet.core, 'core.caBundle');
  output.out(`# ${file}: valid for tributary fleet (no site or edge: not an agent's config)`);
  // The fleet config's sections are the agent config's `core` and `fleet`: the same units apply.
  output.out(stringify(redactSecrets(inConfigUnits(fleet as unknown as Config)), { lineWidth: 0 }).trimEnd());
  return EXIT.ok;
}
