import { createHash, createHmac, createPublicKey, hkdfSync, type KeyObject } from "node:crypto";

/**
 * The key that authenticates a gateway's chain state (its last chain head on
 * disk). Derived from the gateway's certificate key, the key that signs its
 * checkpoints: whoever can write the disk or holds the key ring (officers)
 * cannot compute it, so a deleted, edited or fabricated chain state is found
 * at start.
 */
export interface ChainStateKey {
  /** SHA-256 of the key's SubjectPublicKeyInfo, lowercase hex: names the key a state was saved under. */
  readonly id: string;
  /** HMAC-SHA-256 of `data`. */
  mac(data: string | Uint8Array): Buffer;
}

/** SHA-256 of a key's DER SubjectPublicKeyInfo (hex), the same for a private key and its certificate's public key. */
export function publicKeyId(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

/**
 * HKDF-SHA-256 (RFC 5869) over the private key's PKCS #8 encoding: one
 * secret, two uses kept apart by the label, so that the MAC key reveals
 * nothing of the signing key and nothing signed is a MAC.
 */
export function chainStateKeyFrom(privateKey: KeyObject): ChainStateKey {
  const ikm = privateKey.export({ type: "pkcs8", format: "der" });
  const key = Buffer.from(hkdfSync("sha256", ikm, "credex.audit.chain-state", "HMAC-SHA-256 key v1", 32));
  return {
    id: publicKeyId(privateKey),
    mac: (data) => createHmac("sha256", key).update(data).digest(),
  };
}
