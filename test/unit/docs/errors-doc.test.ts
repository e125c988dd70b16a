import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { ERROR_CODES } from '../../../src/core/errors.js';

test('docs/errors.md lists every error code with its class', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, errorClass] of Object.entries(ERROR_CODES)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${errorClass} \\|`), `${code} (${errorClass}) is missing or has the wrong class`);
  }
});
