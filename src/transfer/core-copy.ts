/**
 * What a copy in the core proves. Our lineage metadata travels with the request, before the
 * bytes are checked, so a copy carrying our SHA-256 proves nothing alone: its size must match,
 * and a plain-MD5 ETag must not show other bytes.
 */
import type { ObjectHeaders } from '../core/object-headers.js';
import type { LakeHead } from '../ports/lake-store.js';
import { META } from '../land/lineage.js';
import { headerDifferences } from '../land/object-metadata.js';
import { isPlainMd5Etag } from './read-and-hash.js';

/**
 * True when the core's ETag shows other bytes than `md5Hex`: a plain ETag derived from the MD5
 * (not SSE-KMS or SSE-C) that differs. Multipart and opaque ETags say nothing here.
 */
export function etagContradicts(
  answer: { readonly etag: string | undefined; readonly etagFromMd5: boolean },
  md5Hex: string | undefined,
): boolean {
  if (md5Hex === undefined || answer.etag === undefined || !answer.etagFromMd5) return false;
  return isPlainMd5Etag(answer.etag) && answer.etag.toLowerCase() !== md5Hex;
}

/**
 * The core copy is ours when its size and recorded SHA-256 match and its ETag does not say
 * otherwise; given `headers` (what this version lands with), its content headers and user
 * metadata must match too. A copy found before an upload is asked for them: an edge object whose
 * headers changed (same bytes, a new Last-Modified) lands again. A confirmation after our own
 * upload is not: the request carried them, its bytes are what is in doubt, and a core that keeps
 * a header otherwise is reported by `verify`, not uploaded to again and again.
 */
export function isOurs(
  head: LakeHead | undefined,
  size: number,
  sha256Hex: string,
  md5Hex: string | undefined,
  headers?: ObjectHeaders,
): boolean {
  return (
    head !== undefined &&
    head.size === size &&
    head.metadata[META.sha256] === sha256Hex &&
    !etagContradicts(head, md5Hex) &&
    (headers === undefined || headerDifferences(headers, head).length === 0)
  );
}
