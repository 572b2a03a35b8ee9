import { writeOnce } from '@tandem/auth';
import { idSecretProblem } from '@tandem/record';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The embedded mode's id secret, in the data directory beside the development issuer's key. */
export const ID_SECRET_FILE = 'id-secret';

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

/**
 * The secret a person's id is keyed with (docs/decisions/0005): TANDEM_ID_SECRET when set (required
 * outside the embedded mode, where every process must hold the same one), otherwise made once and
 * kept in `<dataDir>/id-secret` (mode 0600; written aside and linked into place, as the development
 * issuer's key is, so two processes starting together agree on one). Losing it means the same NHS
 * number would be given a new id: it is as much part of the data as the events.
 */
export const idSecretFor = (config: { readonly TANDEM_ID_SECRET?: string | undefined; readonly TANDEM_DATA_DIR: string }): string => {
  if (config.TANDEM_ID_SECRET !== undefined) return config.TANDEM_ID_SECRET;
  const dir = resolve(config.TANDEM_DATA_DIR);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, ID_SECRET_FILE);
  let secret = read(file);
  if (secret === undefined) {
    writeOnce(file, `${randomBytes(32).toString('hex')}\n`);
    secret = read(file);
  }
  const problem = secret === undefined ? 'could not be read back' : idSecretProblem(secret);
  if (problem !== undefined || secret === undefined) throw new Error(`${file} ${problem ?? ''}: remove it only if the data directory is new`);
  return secret;
};
