/** Where a journaled object version lands in the core: core.keyTemplate rendered for it. */
import { renderCoreKey } from '../core/core-key.js';
import { TributaryError } from '../core/errors.js';

export interface KeyTemplateSettings {
  readonly site: string;
  readonly keyTemplate: string;
}

/** The core key of a version; TRIB_ERR_KEY_UNMAPPABLE names the object when none can be built. */
export function coreKeyFor(
  settings: KeyTemplateSettings,
  object: { readonly bucket: string; readonly key: string; readonly mtimeMs: number },
): string {
  try {
    return renderCoreKey(settings.keyTemplate, {
      site: settings.site,
      bucket: object.bucket,
      key: object.key,
      mtime: new Date(object.mtimeMs),
    });
  } catch (error) {
    throw new TributaryError(
      'TRIB_ERR_KEY_UNMAPPABLE',
      `cannot build a core key for ${object.bucket}/${object.key}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

const DATE_TOKEN = /\{(?:yyyy|mm|dd|hh)\}/;

/**
 * The prefix every core key of a scan target starts with, for a listing of what the core holds
 * for it: the part of the template before `{key}` rendered for the site and bucket, then the
 * target's edge prefix (`site/bucket/prefix` with the default template). Date tokens are not
 * known before an object is, so the prefix stops at the first one (`site/` for
 * `{site}/{yyyy}/...`). Odd and over-long keys are escaped behind a backslash (docs/keys.md), so
 * with an edge prefix theirs do not start with it: they are not listed, and go the usual way.
 */
export function coreKeyPrefix(settings: KeyTemplateSettings, bucket: string, edgePrefix: string): string {
  const beforeKey = settings.keyTemplate.slice(0, settings.keyTemplate.lastIndexOf('{key}'));
  const date = beforeKey.search(DATE_TOKEN);
  const fixed = (date === -1 ? beforeKey : beforeKey.slice(0, date)).replaceAll('{site}', settings.site).replaceAll('{bucket}', bucket);
  return date === -1 ? fixed + edgePrefix : fixed;
}
