// Copies the non-TypeScript files the runtime needs (SQL migrations, the s3rver child script)
// from src/ to dist/, keeping their relative paths.
import { chmodSync, cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const assetPattern = /\.(sql|mjs|html)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (assetPattern.test(name)) cpSync(path, join(dist, relative(src, path)));
  }
}
walk(src);

// The CLI entry must be executable for `npx tributary` and global installs.
chmodSync(join(dist, 'cli', 'bin.js'), 0o755);
