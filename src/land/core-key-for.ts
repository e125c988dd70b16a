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
