/**
 * What a valid config says that will not do what it seems to: told once at start (the agent's
 * log, `config check`), never an error, so that one rules block can serve a whole fleet.
 */
import { parseListen } from '../core/listen-address.js';
import type { Config } from './schema.js';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  // The first rule that matches decides: one without conditions ends the list for every object.
  const catchAll = config.rules.findIndex((rule) =>
    Object.values(rule.match).every((condition) => condition === undefined || condition === ''),
  );
  if (catchAll >= 0 && config.rules[catchAll]!.exclude === true) {
    warnings.push(`rules[${catchAll}]: has no match conditions and excludes every object: nothing is replicated`);
  }
  if (catchAll >= 0 && catchAll < config.rules.length - 1) {
    const later =
      catchAll + 1 === config.rules.length - 1 ? `rules[${catchAll + 1}]` : `rules[${catchAll + 1}] to rules[${config.rules.length - 1}]`;
    warnings.push(`rules[${catchAll}]: has no match conditions, so it decides for every object and ${later} never apply`);
  }
  const listen = parseListen(config.http.listen);
  if (listen !== undefined && !isLoopback(listen.host) && config.http.token === undefined) {
    warnings.push(
      `http.listen: ${config.http.listen} is reachable from other hosts and http.token is not set: anyone who reaches it can post events and read /status`,
    );
  }
  if (config.core.encryption.kmsKeyId !== undefined && config.core.encryption.mode !== 'aws:kms') {
    warnings.push(`core.encryption.kmsKeyId: ignored unless core.encryption.mode is aws:kms (it is ${config.core.encryption.mode})`);
  }
  for (const side of ['edge', 'core'] as const) {
    const { endpoint, caBundle } = config[side];
    if (caBundle !== undefined && endpoint !== undefined && new URL(endpoint).protocol === 'http:') {
      warnings.push(`${side}.caBundle: ignored: ${side}.endpoint is http:// (no TLS), so no certificate is checked`);
    }
  }
  if (config.scan.pageSize > 1000) {
    warnings.push(
      `scan.pageSize: ${config.scan.pageSize} asks for more keys than S3 sends in one list request (1000): pages hold at most 1000`,
    );
  }
  return warnings;
}
