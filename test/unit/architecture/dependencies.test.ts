/**
 * package.json declares what the code uses, no more and no less: every dependency is imported
 * somewhere (src/, test/, bench/, scripts/, the config files) or is a tool whose use is found
 * where the tool is named; every package the code imports is declared (not reached through
 * another package's dependencies).
 */
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const manifest = JSON.parse(read('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|mjs|js|cjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** Package names a source text imports, requires or resolves. */
function importedPackages(text: string): string[] {
  const specifiers = [
    ...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire(?:\.resolve)?\s*\(\s*|\)\s*\(\s*|^import\s+)'([^'./][^']*)'/gm),
  ].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => !specifier.startsWith('node:') && !builtinModules.includes(specifier))
    .map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

/** Dependencies no source file imports, and where their use is found instead. */
const TOOLS: Record<string, { readonly where: string; readonly text: RegExp }> = {
  typescript: { where: 'package.json scripts', text: /(^|&& )tsc -p / },
  prettier: { where: 'package.json scripts', text: /(^|&& )prettier --(check|write) / },
  tsx: { where: 'scripts/run-tests.mjs', text: /'--import', 'tsx'/ },
  'eslint-import-resolver-typescript': { where: 'eslint.config.js', text: /'import\/resolver': \{ typescript:/ },
  '@tsconfig/node20': { where: 'tsconfig.json', text: /"@tsconfig\/node20\/tsconfig\.json"/ },
  '@tsconfig/strictest': { where: 'tsconfig.json', text: /"@tsconfig\/strictest\/tsconfig\.json"/ },
  '@types/node': { where: 'tsconfig.json', text: /"types": \["node"\]/ },
};

const files = ['src', 'test', 'bench', 'scripts'].flatMap((dir) => sourceFiles(dir)).concat('eslint.config.js');
const imported = new Set(files.flatMap((file) => importedPackages(read(file))));
const declared = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)];

test('the import scan sees the code base (a scan that finds nothing would pass everything)', () => {
  assert.ok(files.length > 100, `${files.length} files`);
  for (const name of ['@aws-sdk/client-s3', 'better-sqlite3', 'undici', 'zod', 'fast-check', 's3rver', 'cli-progress', 'eslint'])
    assert.ok(imported.has(name), `${name} is imported, but the scan missed it`);
});

test('every declared dependency is used', () => {
  const unused = declared.filter((name) => {
    if (imported.has(name)) return false;
    const typed = /^@types\/(.+)$/.exec(name)?.[1];
    if (typed !== undefined && typed !== 'node') return !imported.has(typed.includes('__') ? `@${typed.replace('__', '/')}` : typed);
    const tool = TOOLS[name];
    if (tool === undefined) return true;
    const text = tool.where === 'package.json scripts' ? Object.values(manifest.scripts).join('\n') : read(tool.where);
    return !tool.text.test(text);
  });
  assert.deepEqual(unused, [], 'declared in package.json but used nowhere: remove them (or name where they are used in TOOLS)');
});

test('every imported package is declared', () => {
  assert.deepEqual(
    [...imported].filter((name) => !declared.includes(name)).sort(),
    [],
    'imported but not in package.json: it only works while another package happens to depend on it',
  );
});
