import { readFileSync } from 'node:fs';

/** The package version (from package.json, two folders up from both src/agent and dist/agent). */
export const AGENT_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
