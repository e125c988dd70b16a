/** The certificate authorities a config names (edge.caBundle, core.caBundle), read from their files. */
import { readFileSync } from 'node:fs';

import { TributaryError } from '../core/errors.js';

/** The PEM text of `caBundle`, or undefined; an unreadable file is a config error naming the field. */
export function readCaBundle(settings: { readonly caBundle?: string | undefined }, field: string): string | undefined {
  if (settings.caBundle === undefined) return undefined;
  try {
    return readFileSync(settings.caBundle, 'utf8');
  } catch (error) {
    throw new TributaryError('TRIB_ERR_CONFIG_INVALID', `${field}: cannot read ${settings.caBundle}: ${(error as Error).message}`, {
      cause: error,
      field,
    });
  }
}
