import { hash } from 'node:crypto';

/** Namespace for the card and suggestion uuids (v5), so the same call always yields the same ids. */
export const UUID_NAMESPACE = Buffer.from('3f1d8c528f7e4c1a9a576f4a3c1b2e90', 'hex');

/**
 * RFC 9562 UUIDv5 (SHA-1 of namespace and name). Written here rather than with the uuid package, whose
 * string-to-bytes step was a measurable part of each hook call; one-shot `hash` builds no Hash object.
 */
export function uuidv5(name: string): string {
  const bytes = hash('sha1', Buffer.concat([UUID_NAMESPACE, Buffer.from(name)]), 'buffer');
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
