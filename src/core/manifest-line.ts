/**
 * The manifest line: one flat JSON object per landed object (NDJSON), written by report/manifest.ts
 * under `_tributary/manifests/site=<site>/`, and read back by a new journal's first scan pass
 * (transfer/read-manifests.ts): the site's manifests are Tributary's own record of what landed at
 * each core key, so they prove a core copy's lineage without a request per object.
 */
import type { LandingReason } from './object-state.js';

export interface ManifestLine {
  readonly site: string;
  readonly source_bucket: string;
  readonly source_key: string;
  readonly source_etag: string;
  readonly source_mtime: string;
  readonly core_bucket: string;
  readonly core_key: string;
  readonly size: number;
  readonly core_size: number;
  /**
   * The core copy's ETag as the core answered it when the object landed (absent when it gave none):
   * a later reader tells from a listing whether the key still holds that very copy.
   */
  readonly core_etag?: string;
  readonly sha256: string;
  readonly detected_by: string;
  readonly first_seen_at: string;
  /** When it landed; for an `adopted` line, when the core copy was adopted. */
  readonly landed_at: string;
  readonly lag_seconds: number;
  /**
   * Only on a landing made for a reason: `repair` (queued by `verify --repair`), `core-copy-missing`
   * (landed again after edge retention found the core copy gone). A re-landing of an object listed
   * before has a line of its own, with its new `landed_at`.
   */
  readonly relanding?: LandingReason;
  /**
   * Only on the line of a core copy a new journal adopted after a HEAD of its lineage, because no
   * manifest line named it (the journal that landed it was lost before its manifest was written):
   * nothing was sent for it, and this line is its only one.
   */
  readonly adopted?: true;
}

export const MANIFEST_PREFIX = '_tributary/manifests/';

/** Where a site's manifest files are. */
export function siteManifestPrefix(site: string): string {
  return `${MANIFEST_PREFIX}site=${site}/`;
}

/** What a manifest line says landed at a core key: the facts a new journal's adoption relies on. */
export interface ManifestLanding {
  readonly coreKey: string;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly sourceEtag: string;
  readonly sourceMtimeMs: number;
  readonly size: number;
  readonly coreSize: number;
  /** Null on lines written before the field existed. */
  readonly coreEtag: string | null;
  /** Lowercase hex. */
  readonly sha256: string;
  readonly landedAtMs: number;
}

/** A manifest line as read: its landing, and the site and core bucket it names. */
export interface ParsedManifestLine extends ManifestLanding {
  readonly site: string;
  readonly coreBucket: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function time(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The landing one manifest line records, or undefined when the line is not one: not JSON, a field
 * missing or of the wrong type, or no SHA-256 (nothing could be proven with it).
 */
export function parseManifestLine(line: string): ParsedManifestLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const coreKey = text(o['core_key']);
  const site = text(o['site']);
  const coreBucket = text(o['core_bucket']);
  const sourceBucket = text(o['source_bucket']);
  const sourceKey = text(o['source_key']);
  const sourceEtag = text(o['source_etag']);
  const sourceMtimeMs = time(o['source_mtime']);
  const size = count(o['size']);
  const coreSize = count(o['core_size']);
  const sha256 = text(o['sha256']);
  const landedAtMs = time(o['landed_at']);
  const coreEtag = o['core_etag'] === undefined || o['core_etag'] === null ? null : text(o['core_etag']);
  if (
    coreKey === undefined ||
    site === undefined ||
    coreBucket === undefined ||
    sourceBucket === undefined ||
    sourceKey === undefined ||
    sourceEtag === undefined ||
    sourceMtimeMs === undefined ||
    size === undefined ||
    coreSize === undefined ||
    sha256 === undefined ||
    !SHA256_HEX.test(sha256) ||
    landedAtMs === undefined ||
    coreEtag === undefined
  ) {
    return undefined;
  }
  return { coreKey, site, coreBucket, sourceBucket, sourceKey, sourceEtag, sourceMtimeMs, size, coreSize, coreEtag, sha256, landedAtMs };
}
