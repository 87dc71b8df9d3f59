import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  AuditEventSchema,
  SealSuite,
  SealedAuditRecordSchema,
  type AuditEvent,
  type AuditEventType,
  type SealedAuditRecord,
} from "../../gen/credex/v1/audit_pb.js";
import type { KeyRing } from "./key-ring.js";
import { lengthPrefixed, lengthPrefixedString, u32, u64 } from "./canonical-bytes.js";
import { subjectTag } from "./subject-tag.js";

/** The suites selectable by config. */
export type SealSuiteName = "AES-256-GCM" | "SM4-CTR+HMAC-SM3";
export const SEAL_SUITE_NAMES: readonly SealSuiteName[] = ["AES-256-GCM", "SM4-CTR+HMAC-SM3"];

export const SEALED_RECORD_SCHEMA_VERSION = 1;

export function sealSuiteFromName(name: string): SealSuite {
  if (name === "AES-256-GCM") return SealSuite.AES_256_GCM;
  if (name === "SM4-CTR+HMAC-SM3") return SealSuite.SM4_CTR_HMAC_SM3;
  throw new RangeError(`unknown seal suite "${name}" (known: ${SEAL_SUITE_NAMES.join(", ")})`);
}

export function sealSuiteName(suite: SealSuite): SealSuiteName | undefined {
  if (suite === SealSuite.AES_256_GCM) return "AES-256-GCM";
  if (suite === SealSuite.SM4_CTR_HMAC_SM3) return "SM4-CTR+HMAC-SM3";
  return undefined;
}

/** Why a record could not be opened. Never says which byte was wrong (no oracle). */
export class SealError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SealError";
  }
}

/** The clear header of a record: everything but nonce, ciphertext and tag. */
export interface SealHeader {
  readonly gatewayInstance: string;
  readonly sequence: bigint;
  readonly prevHash: Uint8Array;
  readonly keyId: string;
  readonly suite: SealSuite;
  readonly eventType: AuditEventType;
  readonly requesterAgency: string;
  readonly sealedAt: Timestamp;
  readonly eventSchemaVersion: number;
  readonly schemaVersion: number;
  /** Keyed monthly tag of the event's subject (subject-tag.ts); empty when the event has none. */
  readonly subjectTag?: Uint8Array | undefined;
}

/**
 * Canonical, length-prefixed encoding of the header: the associated data of
 * the AEAD (SP 800-38D §5.2.1) and the MAC input prefix of the SM suite, so
 * that no header field can be changed without the record failing to open.
 * Encoded by hand rather than with toBinary so that it cannot depend on
 * serializer details.
 */
export function sealHeaderBytes(h: SealHeader): Buffer {
  return Buffer.concat([
    Buffer.from("credex.audit.sealed.v1\0", "utf8"),
    u32(h.schemaVersion),
    lengthPrefixedString(h.gatewayInstance),
    u64(h.sequence),
    lengthPrefixed(h.prevHash),
    lengthPrefixedString(h.keyId),
    u32(h.suite),
    u32(h.eventType),
    lengthPrefixedString(h.requesterAgency),
    u64(h.sealedAt.seconds),
    u32(h.sealedAt.nanos),
    u32(h.eventSchemaVersion),
    // Appended only when present, so records sealed before tags existed still open; when
    // present it is authenticated like every header field (stripping it fails the record).
    ...(h.subjectTag && h.subjectTag.length > 0 ? [lengthPrefixed(h.subjectTag)] : []),
  ]);
}

interface SuiteKeys {
  enc: Buffer;
  mac?: Buffer;
}

/**
 * Separate keys per suite and purpose from one data key: HKDF (RFC 5869)
 * with distinct info labels, so a key never serves two algorithms. The SM
 * suite derives with SM3 to stay within the national algorithms.
 */
function deriveKeys(dataKey: Buffer, suite: SealSuite, use: SealUse = "audit"): SuiteKeys {
  // HKDF costs about as much as sealing one event: derive once per data key, use and suite.
  let byUse = derivedKeys.get(dataKey);
  if (!byUse) {
    byUse = new Map();
    derivedKeys.set(dataKey, byUse);
  }
  const slot = `${use}/${suite}`;
  let keys = byUse.get(slot);
  if (!keys) {
    keys = deriveKeysUncached(dataKey, suite, use);
    byUse.set(slot, keys);
  }
  return keys;
}

const derivedKeys = new WeakMap<Buffer, Map<string, SuiteKeys>>();

/** What a key ring's data keys seal: audit events, the records of the list log, or the owners' answers to objections (each use gets its own derived keys). */
export type SealUse = "audit" | "lists" | "objections";

function deriveKeysUncached(dataKey: Buffer, suite: SealSuite, use: SealUse): SuiteKeys {
  const derive = (hash: string, info: string, length: number) => Buffer.from(hkdfSync(hash, dataKey, Buffer.alloc(0), info, length));
  if (suite === SealSuite.AES_256_GCM) return { enc: derive("sha256", `credex/${use}/aes-256-gcm/enc`, 32) };
  if (suite === SealSuite.SM4_CTR_HMAC_SM3) {
    return { enc: derive("sm3", `credex/${use}/sm4-ctr/enc`, 16), mac: derive("sm3", `credex/${use}/hmac-sm3/mac`, 32) };
  }
  throw new SealError(`unsupported seal suite ${suite}`);
}

interface Ciphertext {
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** Encrypts `plaintext` under `keys` with the suite, binding `aad`. */
function encrypt(keys: SuiteKeys, suite: SealSuite, aad: Buffer, plaintext: Uint8Array): Ciphertext {
  if (suite === SealSuite.AES_256_GCM) {
    // 96-bit random nonces: safe for up to 2^32 messages per key (SP 800-38D §8.3); rotate keys well before.
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", keys.enc, nonce, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { nonce, ciphertext, tag: cipher.getAuthTag() };
  }
  // A random 128-bit initial counter block per record; CTR never reuses a block under one key in practice.
  const nonce = randomBytes(16);
  const cipher = createCipheriv("sm4-ctr", keys.enc, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: sm3Mac(keys.mac as Buffer, aad, nonce, ciphertext) };
}

/** Authenticates (aad included) and decrypts; throws SealError when anything was altered. */
function decrypt(keys: SuiteKeys, suite: SealSuite, aad: Buffer, sealed: { nonce: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array }): Buffer {
  if (suite === SealSuite.AES_256_GCM) {
    if (sealed.nonce.length !== 12 || sealed.tag.length !== 16) throw new SealError("nonce or tag has the wrong length");
    try {
      const decipher = createDecipheriv("aes-256-gcm", keys.enc, sealed.nonce, { authTagLength: 16 });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
    } catch (err) {
      throw new SealError("authentication failed (AES-256-GCM)", { cause: err });
    }
  }
  if (sealed.nonce.length !== 16) throw new SealError("nonce has the wrong length");
  const expected = sm3Mac(keys.mac as Buffer, aad, sealed.nonce, sealed.ciphertext);
  if (sealed.tag.length !== expected.length || !timingSafeEqual(expected, sealed.tag)) throw new SealError("authentication failed (HMAC-SM3)");
  const decipher = createDecipheriv("sm4-ctr", keys.enc, sealed.nonce);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

function sm3Mac(key: Buffer, header: Buffer, nonce: Uint8Array, ciphertext: Uint8Array): Buffer {
  const len = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  // Every part is length-prefixed so that no boundary can shift between header and payload.
  return createHmac("sm3", key)
    .update(len(header.length)).update(header)
    .update(len(nonce.length)).update(nonce)
    .update(len(ciphertext.length)).update(ciphertext)
    .digest();
}

export interface SealInput {
  readonly gatewayInstance: string;
  readonly sequence: bigint;
  readonly prevHash: Uint8Array;
  readonly suite: SealSuite;
  readonly sealedAt?: Date;
}

/** Encrypts an event under the ring's active key, binding the header (including the chain position). */
export function sealAuditEvent(event: AuditEvent, input: SealInput, ring: KeyRing): SealedAuditRecord {
  const keyId = ring.activeKeyId;
  const sealedAt = input.sealedAt ?? new Date();
  const header: SealHeader = {
    schemaVersion: SEALED_RECORD_SCHEMA_VERSION,
    gatewayInstance: input.gatewayInstance,
    sequence: input.sequence,
    prevHash: input.prevHash,
    keyId,
    suite: input.suite,
    eventType: event.type,
    requesterAgency: event.requester?.agencyId ?? "",
    sealedAt: timestampFromDate(sealedAt),
    eventSchemaVersion: event.schemaVersion,
    subjectTag: event.subjectPseudonym === "" ? new Uint8Array(0) : subjectTag(ring.pseudonymKey, event.subjectPseudonym, sealedAt),
  };
  const aad = sealHeaderBytes(header);
  const plaintext = toBinary(AuditEventSchema, event);
  const { nonce, ciphertext, tag } = encrypt(deriveKeys(ring.key(keyId), input.suite), input.suite, aad, plaintext);
  return create(SealedAuditRecordSchema, {
    schemaVersion: header.schemaVersion,
    gatewayInstance: header.gatewayInstance,
    sequence: header.sequence,
    prevHash: header.prevHash,
    keyId,
    suite: header.suite,
    nonce,
    ciphertext,
    tag,
    eventType: header.eventType,
    requesterAgency: header.requesterAgency,
    sealedAt: header.sealedAt,
    eventSchemaVersion: header.eventSchemaVersion,
    subjectTag: header.subjectTag,
  });
}

/** Authenticates and decrypts a record; throws SealError if anything (header included) was altered. */
export function openSealedRecord(record: SealedAuditRecord, ring: KeyRing): AuditEvent {
  if (record.schemaVersion !== SEALED_RECORD_SCHEMA_VERSION) throw new SealError(`unsupported envelope schema version ${record.schemaVersion}`);
  if (!ring.has(record.keyId)) throw new SealError(`the key ring has no key "${record.keyId}"`);
  if (!record.sealedAt) throw new SealError("the record has no sealed_at");
  const aad = sealHeaderBytes({ ...record, sealedAt: record.sealedAt });
  const plaintext = decrypt(deriveKeys(ring.key(record.keyId), record.suite), record.suite, aad, record);
  try {
    return fromBinary(AuditEventSchema, plaintext);
  } catch (err) {
    throw new SealError("the decrypted payload is not an AuditEvent", { cause: err });
  }
}

export function encodeSealedRecord(record: SealedAuditRecord): Uint8Array {
  return toBinary(SealedAuditRecordSchema, record);
}

export function decodeSealedRecord(bytes: Uint8Array): SealedAuditRecord {
  return fromBinary(SealedAuditRecordSchema, bytes);
}

/** Seals and opens byte strings that are not audit events (the list log's records), with the audit key ring. */
export interface ByteSealer {
  /** Encrypts under the ring's active key, binding `aad` (where the bytes belong, e.g. their log key). */
  seal(plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Opens what seal() returned for the same `aad`, under any key of the ring; throws SealError otherwise. */
  open(sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

const SEALED_BYTES_MAGIC = Buffer.from("CXS1", "ascii");

/**
 * A ByteSealer for one use (SealUse): the suites of the audit seal, with keys
 * derived for that use only (HKDF info labels per use, RFC 5869 §3.2), so a
 * list record can never be opened as, or confused with, an audit record.
 * Layout: "CXS1" | u32 suite | u8 key id length | key id | u8 nonce length |
 * nonce | u8 tag length | tag | ciphertext. The associated data covers the
 * use, suite, key id and the caller's `aad`.
 */
export function createByteSealer(ring: KeyRing, suite: SealSuite, use: Exclude<SealUse, "audit">): ByteSealer {
  const associated = (suiteOf: SealSuite, keyId: string, aad: Uint8Array) =>
    Buffer.concat([Buffer.from(`credex.sealed-bytes.v1\0${use}\0`, "utf8"), u32(suiteOf), lengthPrefixedString(keyId), lengthPrefixed(aad)]);
  return {
    seal(plaintext, aad) {
      const keyId = ring.activeKeyId;
      const { nonce, ciphertext, tag } = encrypt(deriveKeys(ring.key(keyId), suite, use), suite, associated(suite, keyId, aad), plaintext);
      const id = Buffer.from(keyId, "utf8");
      return Buffer.concat([SEALED_BYTES_MAGIC, u32(suite), Buffer.from([id.length]), id, Buffer.from([nonce.length]), nonce, Buffer.from([tag.length]), tag, ciphertext]);
    },
    open(sealed, aad) {
      const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      let at = 0;
      const take = (n: number): Buffer => {
        if (at + n > b.length) throw new SealError("the sealed bytes are truncated");
        const part = b.subarray(at, at + n);
        at += n;
        return part;
      };
      if (!take(4).equals(SEALED_BYTES_MAGIC)) throw new SealError("not sealed bytes (no CXS1 header)");
      const suiteOf = take(4).readUInt32BE(0) as SealSuite;
      const keyId = take(take(1)[0]!).toString("utf8");
      const nonce = take(take(1)[0]!);
      const tag = take(take(1)[0]!);
      const ciphertext = b.subarray(at);
      if (!ring.has(keyId)) throw new SealError(`the key ring has no key "${keyId}"`);
      return decrypt(deriveKeys(ring.key(keyId), suiteOf, use), suiteOf, associated(suiteOf, keyId, aad), { nonce, ciphertext, tag });
    },
  };
}
