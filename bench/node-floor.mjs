// The least a Node.js copier can do, as a reference row beside Tributary and rclone in
// `npm run bench` (docs/benchmarks.md, "Node floor"). Plain JavaScript on node:http and
// node:crypto, no library, no transpiler: lists the bucket, copies every object into
// `<dest bucket>/floor/<key>` with 16 in flight, and keeps nothing else. No journal, no
// signature (s3rver does not check them), no retries, no MD5 check, no HEAD after the PUT.
//
// Two modes:
// - hash-first: what Tributary's contract forces on any copier, the SHA-256 in the object's
//   metadata, which a PUT sends before its body. Objects up to 8 MiB are read into memory while
//   hashed, then PUT; larger ones are read twice: a hashing GET, then a GET streamed into the PUT
//   and hashed again on the way (the body sent must be the body hashed), as Tributary does.
// - stream: each object read once, streamed into its PUT and hashed on the way, no metadata: the
//   least any copier that hashes what it copies can do.
//
// Usage: node bench/node-floor.mjs EDGE_URL BUCKET CORE_URL DEST_BUCKET [hash-first|stream]
import { createHash } from 'node:crypto';
import http from 'node:http';

const [edge, bucket, core, dest, mode = 'hash-first'] = process.argv.slice(2);
if (dest === undefined || !['hash-first', 'stream'].includes(mode)) {
  console.error('usage: node bench/node-floor.mjs EDGE_URL BUCKET CORE_URL DEST_BUCKET [hash-first|stream]');
  process.exit(2);
}
const CONCURRENCY = 16;
const BUFFER_LIMIT = 8 * 1024 * 1024;
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 * CONCURRENCY });

const get = (url) =>
  new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => (res.statusCode === 200 ? resolve(res) : reject(new Error(`GET ${url}: ${res.statusCode}`))))
      .on('error', reject);
  });

const put = (key, length, body, sha256) =>
  new Promise((resolve, reject) => {
    const headers = { 'content-length': String(length), ...(sha256 === undefined ? {} : { 'x-amz-meta-sha256': sha256 }) };
    const req = http.request(`${core}/${dest}/floor/${encodeKey(key)}`, { method: 'PUT', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });

const encodeKey = (key) => key.split('/').map(encodeURIComponent).join('/');
const unescapeXml = (text) => text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]);

async function hashOf(res) {
  const hash = createHash('sha256');
  for await (const chunk of res) hash.update(chunk);
  return hash.digest('hex');
}

async function copy(key, size) {
  const url = `${edge}/${bucket}/${encodeKey(key)}`;
  if (mode === 'stream') {
    const res = await get(url);
    const hash = createHash('sha256');
    res.on('data', (chunk) => hash.update(chunk));
    await put(key, size, res);
    hash.digest('hex');
  } else if (size <= BUFFER_LIMIT) {
    const res = await get(url);
    const hash = createHash('sha256');
    const chunks = [];
    for await (const chunk of res) {
      hash.update(chunk);
      chunks.push(chunk);
    }
    await put(key, size, Buffer.concat(chunks), hash.digest('hex'));
  } else {
    const sha256 = await hashOf(await get(url));
    const res = await get(url);
    const hash = createHash('sha256');
    res.on('data', (chunk) => hash.update(chunk));
    await put(key, size, res, sha256);
    if (hash.digest('hex') !== sha256) throw new Error(`${key} changed between the two reads`);
  }
}

const objects = [];
for (let token = ''; ;) {
  const page = await get(`${edge}/${bucket}?list-type=2&max-keys=1000${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`);
  const xml = Buffer.concat(await page.toArray()).toString();
  for (const [, entry] of xml.matchAll(/<Contents>(.*?)<\/Contents>/gs)) {
    objects.push({ key: unescapeXml(/<Key>([^<]*)</.exec(entry)[1]), size: Number(/<Size>(\d+)</.exec(entry)[1]) });
  }
  const next = /<NextContinuationToken>([^<]*)</.exec(xml);
  if (next === null) break;
  token = unescapeXml(next[1]);
}
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < objects.length) {
      const { key, size } = objects[next++];
      await copy(key, size);
    }
  }),
);
agent.destroy();
console.log(`node-floor (${mode}): copied ${objects.length} objects`);
