import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";

/**
 * The audit key ring: data keys by id (the active one seals, every one still
 * opens what it sealed, so rotation never loses old events) and the key of
 * the subject pseudonym (DOMAIN.md: subject ids never in clear).
 *
 * File format (JSON):
 *   {"active": "<keyId>", "keys": {"<keyId>": "<base64 of 32 bytes>"}, "pseudonymKey": "<base64, ≥ 32 bytes>"}
 */
export interface KeyRing {
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  readonly pseudonymKey: Buffer;
  /** The data key with this id; throws KeyRingError when the ring does not hold it. */
  key(keyId: string): Buffer;
  has(keyId: string): boolean;
}

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyRingError";
  }
}

export const DATA_KEY_BYTES = 32;
/** HMAC keys shorter than the hash output weaken it (RFC 2104 §3). */
export const MIN_PSEUDONYM_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeKey(value: unknown, where: string, source: string): Buffer {
  if (typeof value !== "string") throw new KeyRingError(`${source}: ${where} must be a base64 string`);
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new KeyRingError(`${source}: ${where} is not valid base64`);
  return Buffer.from(value, "base64");
}

/** Parses and validates a key ring file's content; `source` names it in errors. */
export function parseKeyRing(text: string, source = "key ring"): KeyRing {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KeyRingError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new KeyRingError(`${source}: must be a JSON object`);
  const obj = raw as Record<string, unknown>;
  for (const field of Object.keys(obj)) {
    if (!["active", "keys", "pseudonymKey"].includes(field)) throw new KeyRingError(`${source}: unknown field "${field}"`);
  }
  const active = obj["active"];
  if (typeof active !== "string" || active === "") throw new KeyRingError(`${source}: "active" must name a key id`);
  const keysRaw = obj["keys"];
  if (typeof keysRaw !== "object" || keysRaw === null || Array.isArray(keysRaw)) throw new KeyRingError(`${source}: "keys" must be an object of keyId → base64 key`);
  const keys = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(keysRaw as Record<string, unknown>)) {
    if (!KEY_ID.test(id)) throw new KeyRingError(`${source}: key id "${id}" must be 1-64 characters of [A-Za-z0-9._-]`);
    const key = decodeKey(value, `keys["${id}"]`, source);
    if (key.length !== DATA_KEY_BYTES) throw new KeyRingError(`${source}: keys["${id}"] is ${key.length} bytes, expected ${DATA_KEY_BYTES}`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new KeyRingError(`${source}: "keys" is empty`);
  if (!keys.has(active)) throw new KeyRingError(`${source}: active key "${active}" is not in "keys"`);
  const pseudonymKey = decodeKey(obj["pseudonymKey"], `"pseudonymKey"`, source);
  if (pseudonymKey.length < MIN_PSEUDONYM_KEY_BYTES) {
    throw new KeyRingError(`${source}: "pseudonymKey" is ${pseudonymKey.length} bytes, expected at least ${MIN_PSEUDONYM_KEY_BYTES}`);
  }
  return createKeyRing(active, keys, pseudonymKey);
}

function createKeyRing(activeKeyId: string, keys: ReadonlyMap<string, Buffer>, pseudonymKey: Buffer): KeyRing {
  const frozen = new Map(keys);
  return Object.freeze({
    activeKeyId,
    keyIds: Object.freeze([...frozen.keys()]),
    pseudonymKey,
    has: (keyId: string) => frozen.has(keyId),
    key(keyId: string): Buffer {
      const key = frozen.get(keyId);
      if (!key) throw new KeyRingError(`the key ring has no key "${keyId}" (ring holds: ${[...frozen.keys()].join(", ")})`);
      return key;
    },
  });
}

/**
 * Reads and validates a key ring file. Like ssh with private keys, refuses a
 * file that others than its owner may read or write (mode & 0o077).
 */
export async function loadKeyRing(path: string): Promise<KeyRing> {
  let text: string;
  try {
    const { mode } = await stat(path);
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      throw new KeyRingError(`key ring ${path}: permissions ${(mode & 0o777).toString(8).padStart(4, "0")} are too open (it holds secret keys): chmod 600 ${path}`);
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof KeyRingError) throw err;
    throw new KeyRingError(`key ring ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseKeyRing(text, `key ring ${path}`);
}

/** A fresh ring with one random data key and a random pseudonym key (dev and tests). */
export function generateKeyRing(keyId = "k1"): KeyRing {
  if (!KEY_ID.test(keyId)) throw new KeyRingError(`key id "${keyId}" must be 1-64 characters of [A-Za-z0-9._-]`);
  return createKeyRing(keyId, new Map([[keyId, randomBytes(DATA_KEY_BYTES)]]), randomBytes(32));
}

/**
 * Rotation: a new random active key; the old keys stay to open old events.
 * The pseudonym key does not rotate, or pseudonyms of one subject would stop matching.
 */
export function rotateKeyRing(ring: KeyRing, newKeyId: string): KeyRing {
  if (!KEY_ID.test(newKeyId)) throw new KeyRingError(`key id "${newKeyId}" must be 1-64 characters of [A-Za-z0-9._-]`);
  if (ring.has(newKeyId)) throw new KeyRingError(`key id "${newKeyId}" is already in the ring`);
  const keys = new Map(ring.keyIds.map((id) => [id, ring.key(id)] as const));
  keys.set(newKeyId, randomBytes(DATA_KEY_BYTES));
  return createKeyRing(newKeyId, keys, ring.pseudonymKey);
}

/** The file form of a ring (contains secrets: write it with mode 0600). */
export function serializeKeyRing(ring: KeyRing): string {
  const keys: Record<string, string> = {};
  for (const id of ring.keyIds) keys[id] = ring.key(id).toString("base64");
  return `${JSON.stringify({ active: ring.activeKeyId, keys, pseudonymKey: ring.pseudonymKey.toString("base64") }, null, 2)}\n`;
}
