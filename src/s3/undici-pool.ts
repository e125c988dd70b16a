/**
 * undici's `Pool`, loaded without the rest of undici.
 *
 * `import { Pool } from 'undici'` loads undici's whole index: fetch, WebSocket, caches, mocks and
 * more, 113 files that cost about 0.06 CPU-s at every start (measured: 0.14 against 0.08 CPU-s
 * for a bare `node -e`), an eighth of a `sync --once` that finds nothing to do. The pool and
 * the request API are all the lean S3 client uses, so only those are loaded, and the request API
 * is attached to the dispatcher the way undici's own index does it. If a future undici moves
 * these files, the whole package is loaded instead: slower to start, never broken.
 */
import { createRequire } from 'node:module';

import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

function loadPool(): typeof UndiciPool {
  try {
    const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
    const api = require('undici/lib/api/index.js') as object;
    const pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
    Object.assign(dispatcher.prototype, api);
    if (typeof pool.prototype.request === 'function') return pool;
  } catch {
    // the layout changed: fall through to the package's entry point
  }
  return (require('undici') as { Pool: typeof UndiciPool }).Pool;
}

export const Pool = loadPool();
export type Pool = UndiciPool;
