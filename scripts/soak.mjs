// `npm run soak`: the chaos test (test/e2e/chaos.test.ts) longer — more objects, more SIGKILLs —
// with its figures written to soak-report.json. Override with CHAOS_OBJECTS and CHAOS_KILLS.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  CHAOS_OBJECTS: process.env.CHAOS_OBJECTS ?? '8000',
  CHAOS_KILLS: process.env.CHAOS_KILLS ?? '30',
  CHAOS_REPORT: process.env.CHAOS_REPORT ?? join(process.env.INIT_CWD ?? root, 'soak-report.json'),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
console.log(`soak: ${env.CHAOS_OBJECTS} objects, ${env.CHAOS_KILLS} SIGKILLs, faults on both links; report: ${env.CHAOS_REPORT}`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', join(root, 'test/e2e/chaos.test.ts')], {
  stdio: 'inherit',
  cwd: root,
  env,
});
process.exit(result.status ?? 1);
