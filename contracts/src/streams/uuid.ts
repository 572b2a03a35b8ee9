import { createHash } from 'node:crypto';

/**
 * A name-based UUID (RFC 9562 version 5) of `name` in `namespace` (a UUID, hyphens optional): the
 * same name always gives the same id, so a retried command or a replayed reaction makes the same
 * event, escalation or prompt id. The one implementation: ids already stored depend on its bytes.
 */
export const uuidV5 = (namespace: string, name: string): string => {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};
