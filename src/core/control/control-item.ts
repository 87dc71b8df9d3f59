/**
 * Control items: signed operator decisions that every gateway replica must
 * apply (revocations, policy bundles). They travel on the compacted control
 * topic `credex.control.v1`, keyed by `<type>/<id>`, and a replica that starts
 * reads the whole current state from the beginning. The record key must be
 * the item's own key (KEY_MISMATCH otherwise): compaction keeps the latest
 * record per key, so an item replayed under another item's key would make
 * compaction drop that item. Each type chooses ids that are never reused for
 * a different decision (a revocation per serial, a policy bundle per
 * sequence number), and a record without a value (a Kafka tombstone) is
 * refused: nothing is undone by deleting records.
 *
 * Envelope (JSON, UTF-8), version 1:
 *   { "v": 1, "type": "revocation", "id": "<item id>", "issuedAt": "<RFC 3339>",
 *     "payload": "<base64 bytes>", "signer": "<sha256 of the signer certificate DER, hex>",
 *     "signature": "<base64>" }
 * The signature covers signingInput(): the lines
 *   "credex-control-v1", type, id, issuedAt, signer, sha256(payload) as hex
 * joined by "\n" — a fixed byte string independent of JSON formatting.
 * RSA keys sign with PKCS#1 v1.5 over SHA-256, EC keys with ECDSA over SHA-256.
 *
 * A consumer accepts an item only if its signer is one of the CA certificates
 * it trusts (by fingerprint) and the signature verifies with that
 * certificate's key. Payload formats belong to each type (revocation-item.ts).
 */
import { createHash, sign, verify, X509Certificate, type KeyObject } from "node:crypto";

export const CONTROL_TOPIC = "credex.control.v1";
const DOMAIN = "credex-control-v1";

export interface ControlItem {
  readonly type: string;
  readonly id: string;
  readonly issuedAt: Date;
  readonly payload: Uint8Array;
  /** SHA-256 of the signer certificate's DER, lowercase hex. */
  readonly signer: string;
  readonly signature: Uint8Array;
}

export type UnsignedControlItem = Omit<ControlItem, "signer" | "signature">;

/** Why a control record was not applied; `reason` is stable for metrics and incidents. */
export class ControlItemError extends Error {
  constructor(
    readonly reason: "MALFORMED" | "UNKNOWN_SIGNER" | "BAD_SIGNATURE" | "UNKNOWN_TYPE" | "BAD_PAYLOAD" | "KEY_MISMATCH" | "TOMBSTONE" | "ROLLBACK" | "SIGNER_NOT_A_REPLICA",
    message: string,
    /** The key the item itself names (`<type>/<id>`), when it could be decoded; may differ from the record key. */
    readonly itemKey?: string,
  ) {
    super(message);
    this.name = "ControlItemError";
  }
}

const TYPE_OR_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The record key on the compacted topic: the latest item per key is the state. */
export function controlItemKey(item: Pick<ControlItem, "type" | "id">): string {
  return `${item.type}/${item.id}`;
}

export function signingInput(item: UnsignedControlItem, signer: string): Buffer {
  const digest = createHash("sha256").update(item.payload).digest("hex");
  return Buffer.from([DOMAIN, item.type, item.id, item.issuedAt.toISOString(), signer, digest].join("\n"), "utf8");
}

export function fingerprintOf(cert: X509Certificate): string {
  return createHash("sha256").update(cert.raw).digest("hex");
}

/** Signs with the key of `signerCert` (the operator's issuing CA). */
export function signControlItem(item: UnsignedControlItem, signerCert: X509Certificate, key: KeyObject): ControlItem {
  if (!TYPE_OR_ID.test(item.type) || !TYPE_OR_ID.test(item.id)) throw new RangeError("control item type and id must be 1-128 of A-Z a-z 0-9 . _ : -");
  if (!signerCert.checkPrivateKey(key)) throw new RangeError("the signing key does not belong to the signer certificate");
  const signer = fingerprintOf(signerCert);
  return { ...item, signer, signature: sign("sha256", signingInput(item, signer), key) };
}

export function encodeControlItem(item: ControlItem): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: 1,
      type: item.type,
      id: item.id,
      issuedAt: item.issuedAt.toISOString(),
      payload: Buffer.from(item.payload).toString("base64"),
      signer: item.signer,
      signature: Buffer.from(item.signature).toString("base64"),
    }),
    "utf8",
  );
}

export function decodeControlItem(bytes: Uint8Array): ControlItem {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new ControlItemError("MALFORMED", "the control record is not JSON");
  }
  const str = (k: string) => {
    const v = doc?.[k];
    if (typeof v !== "string") throw new ControlItemError("MALFORMED", `the control record has no string "${k}"`);
    return v;
  };
  if (doc?.["v"] !== 1) throw new ControlItemError("MALFORMED", `unsupported control envelope version ${JSON.stringify(doc?.["v"])}`);
  const issuedAt = new Date(str("issuedAt"));
  if (Number.isNaN(issuedAt.getTime())) throw new ControlItemError("MALFORMED", "issuedAt is not a time");
  const type = str("type");
  const id = str("id");
  if (!TYPE_OR_ID.test(type) || !TYPE_OR_ID.test(id)) throw new ControlItemError("MALFORMED", "type or id has characters outside A-Z a-z 0-9 . _ : -");
  const signer = str("signer");
  if (!/^[0-9a-f]{64}$/.test(signer)) throw new ControlItemError("MALFORMED", "signer is not a SHA-256 fingerprint");
  return { type, id, issuedAt, payload: Buffer.from(str("payload"), "base64"), signer, signature: Buffer.from(str("signature"), "base64") };
}

/** Throws ControlItemError unless a trusted certificate signed the item. */
export function verifyControlItem(item: ControlItem, trusted: readonly X509Certificate[]): X509Certificate {
  const signer = trusted.find((c) => fingerprintOf(c) === item.signer);
  if (!signer) throw new ControlItemError("UNKNOWN_SIGNER", `control item ${controlItemKey(item)} is signed by ${item.signer.slice(0, 16)}…, not a trusted CA`);
  const key: KeyObject = signer.publicKey;
  let ok = false;
  try {
    ok = verify("sha256", signingInput(item, item.signer), key, item.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ControlItemError("BAD_SIGNATURE", `control item ${controlItemKey(item)}: the signature does not verify`);
  return signer;
}
