/**
 * Lineage user metadata every core object carries, so the lake alone tells where each object
 * came from. HTTP header values must be ASCII, so the source key is stored percent-encoded
 * (encodeURIComponent); everything else is ASCII by construction.
 */

export const META = {
  site: 'tributary-site',
  sourceBucket: 'tributary-source-bucket',
  sourceKey: 'tributary-source-key',
  sourceEtag: 'tributary-source-etag',
  sourceMtime: 'tributary-source-mtime',
  sha256: 'tributary-sha256',
  encoding: 'tributary-encoding',
  originalSize: 'tributary-original-size',
} as const;

export interface LineageFacts {
  readonly site: string;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly mtimeMs: number;
  readonly sha256Hex: string;
  readonly size: number;
}

export function lineageMetadata(facts: LineageFacts): Record<string, string> {
  return {
    [META.site]: facts.site,
    [META.sourceBucket]: facts.bucket,
    [META.sourceKey]: encodeURIComponent(facts.key),
    [META.sourceEtag]: facts.etag,
    [META.sourceMtime]: new Date(facts.mtimeMs).toISOString(),
    [META.sha256]: facts.sha256Hex,
    [META.encoding]: 'identity',
    [META.originalSize]: String(facts.size),
  };
}
