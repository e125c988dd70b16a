/**
 * What a valid config says that will not do what it seems to: told once at start (the agent's
 * log, `config check`), never an error, so that one rules block can serve a whole fleet.
 */
import type { Config } from './schema.js';

export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const buckets = new Set(config.edge.buckets.map((b) => b.name));
  config.rules.forEach((rule, index) => {
    const bucket = rule.match.bucket;
    if (bucket !== undefined && !buckets.has(bucket)) {
      warnings.push(`rules[${index}].match.bucket: ${JSON.stringify(bucket)} is not one of this site's edge buckets (${[...buckets].join(', ')}): the rule never matches here`);
    }
  });
  if (config.rules.some((rule) => rule.compress !== undefined && rule.compress !== 'none')) {
    warnings.push('rules[].compress: accepted but not applied yet: objects land uncompressed');
  }
  if (config.bandwidth.length > 0) warnings.push('bandwidth: accepted but not enforced yet');
  return warnings;
}
