/**
 * The layer rules of eslint.config.js are live: an import that crosses a layer the wrong way is
 * an error (a resolver that stopped resolving would let everything through silently), and the
 * code base as it is has none.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The boundaries errors ESLint reports for `file` with `line` added to it. */
async function boundaryErrors(eslint: ESLint, file: string, line: string): Promise<string[]> {
  const path = join(root, file);
  const [result] = await eslint.lintText(`${readFileSync(path, 'utf8')}\n${line}\n`, { filePath: path });
  return result!.messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);
}

test('an import against the layers is a lint error; one along them is not', async () => {
  const eslint = new ESLint({ cwd: root });
  const wrong: [string, string, RegExp][] = [
    [
      'src/core/units.ts',
      "import type { Agent } from '../agent/build-agent.js';\nexport type Probe = Agent;",
      /"core" to elements of type "agent"/,
    ],
    [
      'src/transfer/plan.ts',
      "import { openJournal } from '../journal/open-journal.js';\nexport const probe = openJournal;",
      /"transfer" to elements of type "journal"/,
    ],
    [
      'src/cli/commands/status.ts',
      "import { openJournal } from '../../journal/open-journal.js';\nexport const probe = openJournal;",
      /"cli" to elements of type "journal"/,
    ],
    [
      'src/s3/etag.ts',
      "import type { Runner } from '../schedule/runner.js';\nexport type Probe = Runner;",
      /"s3" to elements of type "schedule"/,
    ],
    [
      'src/detect/scanner.ts',
      "import { createS3Endpoint } from '../s3/endpoint.js';\nexport const probe = createS3Endpoint;",
      /"detect" to elements of type "s3"/,
    ],
  ];
  for (const [file, line, expected] of wrong) {
    const errors = await boundaryErrors(eslint, file, line);
    assert.equal(errors.length, 1, `${file}: ${errors.join('; ')}`);
    assert.match(errors[0]!, expected);
  }
  const allowed = await boundaryErrors(
    eslint,
    'src/transfer/plan.ts',
    "import type { Clock } from '../ports/clock.js';\nexport type Probe = Clock;",
  );
  assert.deepEqual(allowed, []);
});
