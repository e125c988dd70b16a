import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  MAX_CORE_KEY_BYTES,
  escapeOddKey,
  isPlainKey,
  renderCoreKey,
  validateKeyTemplate,
  type CoreKeyInput,
} from '../../../src/core/core-key.js';
import { isTributaryError } from '../../../src/core/errors.js';

const DEFAULT_TEMPLATE = '{site}/{bucket}/{key}';
const MTIME = new Date('2024-03-05T07:08:09Z');
const PREFIX = 'site/bucket/';

function render(key: string, template = DEFAULT_TEMPLATE): string {
  return renderCoreKey(template, { site: 'site', bucket: 'bucket', key, mtime: MTIME });
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Segment of `count` ASCII bytes, for building long keys out of short segments. */
function segment(count: number, char = 'x'): string {
  return char.repeat(count);
}

/** A plain key of exactly `total` bytes made of segments of at most 199 bytes. */
function longPlainKey(total: number): string {
  const parts: string[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(199, left === 200 ? 100 : left);
    parts.push(segment(size, String.fromCharCode(97 + (parts.length % 26))));
    left -= size;
    if (left > 0) left -= 1;
  }
  const key = parts.join('/');
  assert.equal(bytes(key), total);
  return key;
}

/** Inverse of escapeOddKey, written independently of the module. */
function unescapeOddKey(escaped: string): string {
  assert.ok(escaped.startsWith('\\'));
  return escaped
    .slice(1)
    .split('/')
    .map((part) => {
      if (part === '%00') return '';
      if (part === '%2E') return '.';
      if (part === '%2E%2E') return '..';
      return part.replace(/%25|%5C/g, (escape) => (escape === '%25' ? '%' : '\\'));
    })
    .join('/');
}

/** Checks every invariant of a rendered core key for the default template. */
function assertSafe(key: string, rendered: string): void {
  assert.ok(rendered.startsWith(PREFIX), `${JSON.stringify(rendered)} must start with ${PREFIX}`);
  for (const part of rendered.split('/')) {
    assert.ok(part !== '' && part !== '.' && part !== '..', `bad segment in ${JSON.stringify(rendered)}`);
  }
  assert.ok(bytes(rendered) <= MAX_CORE_KEY_BYTES, `${bytes(rendered)} bytes`);

  const keyPart = rendered.slice(PREFIX.length);
  if (keyPart.startsWith('\\\\')) {
    assert.ok(bytes(PREFIX + (isPlainKey(key) ? key : escapeOddKey(key))) > MAX_CORE_KEY_BYTES);
    assert.ok(keyPart.endsWith(`~${sha256(key)}`));
    const kept = keyPart.slice(2, -65);
    assert.ok((isPlainKey(key) ? key : escapeOddKey(key)).startsWith(kept), 'over-long part is a prefix');
    if (!isPlainKey(key)) assert.doesNotMatch(kept, /%.?$/, 'cut inside a %XX escape');
  } else if (keyPart.startsWith('\\')) {
    assert.equal(isPlainKey(key), false);
    assert.equal(keyPart.indexOf('\\', 1), -1, 'only the marker backslash');
    assert.equal(unescapeOddKey(keyPart), key);
  } else {
    assert.equal(isPlainKey(key), true);
    assert.equal(keyPart, key);
  }
}

const NFC = 'données/été.json'.normalize('NFC');
const NFD = NFC.normalize('NFD');

const CORPUS: readonly string[] = [
  '../x',
  'a/../../b',
  './c',
  '//d',
  '/leading',
  'back\\slash',
  'a\\..\\b',
  NFC,
  NFD,
  'emoji/😀🎉.png',
  'rtl/\u202Etxt.exe',
  'zero\u200Bwidth/file',
  '100%.txt',
  '%2E%2E/x',
  '\\%2E%2E/x',
  '%00',
  '\\%00',
  '\\\\twice',
  '%5C',
  'a+b c.txt',
  'hash#frag',
  'q?x=1',
  'with space/file name.csv',
  longPlainKey(1000),
  longPlainKey(1100),
  'é'.repeat(1000),
  '日本語/'.repeat(250),
  '😀'.repeat(300),
  '/' + 'a'.repeat(1100),
  '\\' + '%'.repeat(600),
  'logs/',
  'a//b',
  '.',
  '..',
  '...',
  '.hidden/file',
  '',
  'a/./b',
  'a/..',
];

describe('isPlainKey', () => {
  it('accepts ordinary keys, dot-named files and percent signs', () => {
    for (const key of ['a', 'a/b.txt', '...', '.hidden/file', '%2E%2E/x', '100%.txt', 'q?x=1', NFD]) {
      assert.equal(isPlainKey(key), true, key);
    }
  });

  it('rejects empty, dot and dot-dot segments and backslashes', () => {
    for (const key of ['', '.', '..', '/a', 'a/', 'a//b', './c', 'a/../b', 'a\\b', '\\']) {
      assert.equal(isPlainKey(key), false, key);
    }
  });
});

describe('escapeOddKey', () => {
  const examples: readonly (readonly [string, string])[] = [
    ['../x', '\\%2E%2E/x'],
    ['//d', '\\%00/%00/d'],
    ['/a', '\\%00/a'],
    ['logs/', '\\logs/%00'],
    ['a\\b', '\\a%5Cb'],
    ['./c', '\\%2E/c'],
    ['a/../../b', '\\a/%2E%2E/%2E%2E/b'],
    ['', '\\%00'],
    ['100%/', '\\100%25/%00'],
    ['\\%2E%2E/x', '\\%5C%252E%252E/x'],
  ];
  for (const [key, escaped] of examples) {
    it(`${JSON.stringify(key)} -> ${JSON.stringify(escaped)}`, () => {
      assert.equal(escapeOddKey(key), escaped);
      assert.equal(unescapeOddKey(escaped), key);
    });
  }
});

describe('renderCoreKey: corpus', () => {
  const rendered = CORPUS.map((key) => ({ key, core: render(key) }));

  for (const { key, core } of rendered) {
    it(`is safe for ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…(${bytes(key)} bytes)` : key)}`, () => {
      assertSafe(key, core);
    });
  }

  it('keeps plain keys verbatim', () => {
    for (const key of ['%2E%2E/x', '100%.txt', 'a+b c.txt', 'hash#frag', 'q?x=1', '...', '.hidden/file', NFC, NFD]) {
      assert.equal(render(key), PREFIX + key);
    }
    const thousand = longPlainKey(1000);
    assert.equal(render(thousand), PREFIX + thousand);
  });

  it('gives every corpus key a distinct core key', () => {
    assert.equal(new Set(CORPUS).size, CORPUS.length);
    assert.equal(new Set(rendered.map((entry) => entry.core)).size, CORPUS.length);
  });

  it('keeps the NFC and NFD spellings apart', () => {
    assert.notEqual(NFC, NFD);
    assert.notEqual(render(NFC), render(NFD));
  });

  it('does not confuse escapes with look-alike keys', () => {
    assert.equal(render('../x'), `${PREFIX}\\%2E%2E/x`);
    assert.equal(render('%2E%2E/x'), `${PREFIX}%2E%2E/x`);
    assert.equal(render('\\%2E%2E/x'), `${PREFIX}\\%5C%252E%252E/x`);
  });
});

describe('renderCoreKey: over-long keys', () => {
  it('keeps a key that exactly fills the limit and shortens one byte more', () => {
    const fits = longPlainKey(MAX_CORE_KEY_BYTES - bytes(PREFIX));
    assert.equal(render(fits), PREFIX + fits);
    const over = longPlainKey(MAX_CORE_KEY_BYTES - bytes(PREFIX) + 1);
    const core = render(over);
    assert.ok(core.startsWith(`${PREFIX}\\\\`));
    assert.equal(bytes(core), MAX_CORE_KEY_BYTES);
    assert.ok(core.endsWith(`~${sha256(over)}`));
  });

  it('tells apart long keys that share their first 1024 bytes', () => {
    const base = longPlainKey(1100);
    const a = render(`${base}/a`);
    const b = render(`${base}/b`);
    assert.notEqual(a, b);
    assert.equal(a.slice(0, -64), b.slice(0, -64));
  });

  it('cuts multi-byte keys between characters', () => {
    for (const key of ['é'.repeat(1000), '😀'.repeat(300), '日本語/'.repeat(250)]) {
      const core = render(key);
      assert.ok(bytes(core) <= MAX_CORE_KEY_BYTES && bytes(core) > MAX_CORE_KEY_BYTES - 4);
      assert.equal(Buffer.from(core, 'utf8').toString('utf8'), core);
      assert.doesNotMatch(core, /\uFFFD/);
    }
  });

  it('keeps the escape marker of odd keys and never cuts inside an escape', () => {
    const core = render('/' + 'a'.repeat(1100));
    assert.ok(core.startsWith(`${PREFIX}\\\\\\%00/aaa`));
    for (let extra = 0; extra < 3; extra += 1) {
      const key = 'x'.repeat(extra) + '%'.repeat(600) + '\\';
      const keyPart = render(key).slice(PREFIX.length, -65);
      assert.match(keyPart, /^\\\\\\x{0,2}(%25)+$/);
    }
  });

  it('throws a permanent error when the prefix leaves no room', () => {
    const site = 's'.repeat(960);
    const input: CoreKeyInput = { site, bucket: 'bucket', key: 'k'.repeat(100), mtime: MTIME };
    assert.throws(
      () => renderCoreKey(DEFAULT_TEMPLATE, input),
      (error: unknown) => isTributaryError(error) && error.code === 'TRIB_ERR_KEY_UNMAPPABLE' && error.message.includes('no room'),
    );
    assert.equal(renderCoreKey(DEFAULT_TEMPLATE, { ...input, key: 'k' }), `${site}/bucket/k`);
  });
});

describe('renderCoreKey: template and inputs', () => {
  it('renders date tokens from the UTC parts of mtime, zero-padded', () => {
    const template = '{site}/{yyyy}/{mm}/{dd}/{hh}/{bucket}/{key}';
    const at = (iso: string): string => renderCoreKey(template, { site: 's', bucket: 'b', key: 'k', mtime: new Date(iso) });
    assert.equal(at('2024-03-05T07:08:09Z'), 's/2024/03/05/07/b/k');
    assert.equal(at('2024-12-31T23:59:59.999Z'), 's/2024/12/31/23/b/k');
    assert.equal(at('2025-01-01T00:30:00+02:00'), 's/2024/12/31/22/b/k');
    assert.equal(at('0999-01-09T00:00:00Z'), 's/0999/01/09/00/b/k');
  });

  it('renders tokens mixed with literals', () => {
    const core = renderCoreKey('{site}/raw-{bucket}/{yyyy}{mm}{dd}/{key}', {
      site: 'paris',
      bucket: 'cams',
      key: '../x',
      mtime: MTIME,
    });
    assert.equal(core, 'paris/raw-cams/20240305/\\%2E%2E/x');
  });

  it('refuses an invalid template', () => {
    assert.throws(
      () => render('k', '{bucket}/{key}'),
      (error: unknown) => isTributaryError(error) && error.code === 'TRIB_ERR_CONFIG_INVALID',
    );
  });

  it('refuses site and bucket names that are not one path segment', () => {
    for (const [site, bucket] of [
      ['', 'b'],
      ['..', 'b'],
      ['a/b', 'b'],
      ['s', '.'],
      ['s', 'x\\y'],
    ] as const) {
      assert.throws(
        () => renderCoreKey(DEFAULT_TEMPLATE, { site, bucket, key: 'k', mtime: MTIME }),
        (error: unknown) => isTributaryError(error) && error.code === 'TRIB_ERR_CONFIG_INVALID',
      );
    }
  });

  it('refuses keys that are not well-formed Unicode', () => {
    assert.throws(
      () => render('bad\uD800key'),
      (error: unknown) => isTributaryError(error) && error.code === 'TRIB_ERR_KEY_UNMAPPABLE',
    );
  });
});

describe('validateKeyTemplate', () => {
  it('accepts the default and tokenised templates', () => {
    assert.deepEqual(validateKeyTemplate(DEFAULT_TEMPLATE, 3), []);
    assert.deepEqual(validateKeyTemplate('{site}/{key}', 1), []);
    assert.deepEqual(validateKeyTemplate('{site}/{yyyy}/{mm}/{dd}/{hh}/{bucket}/{key}', 2), []);
    assert.deepEqual(validateKeyTemplate('{site}/in-{bucket}/.raw/{key}', 2), []);
  });

  const cases: readonly (readonly [string, number, string])[] = [
    ['{site}/{foo}/{key}', 1, 'unknown token "{foo}"'],
    ['{site}/{}/{key}', 1, 'unknown token "{}"'],
    ['{site}/{bucket}', 1, 'must contain "{key}"'],
    ['{site}/{key}/{bucket}', 1, 'must end with "{key}"'],
    ['{site}/{key}.json', 1, 'must end with "{key}"'],
    ['{site}/{bucket}{key}', 1, '"{key}" must follow a "/"'],
    ['{site}/{key}/{key}', 1, 'must contain "{key}" only once'],
    ['{bucket}/{site}/{key}', 1, 'must start with "{site}/"'],
    ['/{site}/{key}', 1, 'must start with "{site}/"'],
    ['{site}-x/{key}', 1, 'must start with "{site}/"'],
    ['{site}/{key}', 2, 'must contain "{bucket}" when the site has several buckets'],
    ['{site}//{key}', 1, 'must not contain an empty segment'],
    ['{site}/{bucket}//{key}', 1, 'must not contain an empty segment'],
    ['{site}/./{key}', 1, 'must not contain a "." segment'],
    ['{site}/../{key}', 1, 'must not contain a ".." segment'],
    ['{site}/a\\b/{key}', 1, 'must not contain a backslash'],
    ['{site}/{bucket/{key}', 1, 'unbalanced "{" or "}"'],
    ['{site}/}/{key}', 1, 'unbalanced "{" or "}"'],
  ];
  for (const [template, bucketCount, problem] of cases) {
    it(`reports ${problem} for ${template}`, () => {
      const problems = validateKeyTemplate(template, bucketCount);
      assert.ok(problems.includes(problem), JSON.stringify(problems));
      for (const message of problems) assert.match(message, /^[^A-Z]+$/);
    });
  }

  it('reports each problem once', () => {
    const problems = validateKeyTemplate('{a}/{a}//x/', 2);
    assert.equal(new Set(problems).size, problems.length);
    assert.deepEqual(problems, [
      'unknown token "{a}"',
      'must start with "{site}/"',
      'must contain "{key}"',
      'must contain "{bucket}" when the site has several buckets',
      'must not contain an empty segment',
    ]);
  });
});

describe('renderCoreKey: properties', () => {
  const unit = fc.constantFrom(
    '/',
    '/',
    '/',
    '.',
    '.',
    '\\',
    '%',
    '%',
    '2',
    'E',
    '5',
    'C',
    '0',
    'a',
    'é',
    'e\u0301',
    '😀',
    '\u202E',
    '\u200B',
    '日',
  );
  const shortKey = fc.string({ unit, maxLength: 8 });
  const anyKey = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit, maxLength: 24 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.string({ unit, maxLength: 12 }),
          fc.constantFrom('z', '/', '%', '\\', '😀', 'é', 'ab/'),
          fc.integer({ min: 900, max: 1100 }),
          fc.string({ unit, maxLength: 12 }),
        )
        .map(([head, filler, size, tail]) => head + filler.repeat(Math.ceil(size / bytes(filler))) + tail),
    },
  );

  it('keeps every core key safe and decodable', () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        assertSafe(key, render(key));
      }),
      { numRuns: 2000 },
    );
  });

  it('never maps two different keys to one core key (pairs)', () => {
    fc.assert(
      fc.property(shortKey, shortKey, (a, b) => {
        fc.pre(a !== b);
        assert.notEqual(render(a), render(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('never maps two different keys to one core key (sets)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyKey, { maxLength: 40 }), (keys) => {
        assert.equal(new Set(keys.map((key) => render(key))).size, keys.length);
      }),
      { numRuns: 500 },
    );
  });
});
