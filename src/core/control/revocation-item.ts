/**
 * The "revocation" control item: one revoked certificate. id = the serial
 * (uppercase hex, no leading zeros), so the compacted topic keeps one record
 * per certificate. Payload: JSON {"serial", "reason" (RFC 5280 §5.3.1 name),
 * "revokedAt" (RFC 3339)}.
 *
 * A revocation is final (RFC 5280 §3.3: only certificateHold may be removed):
 * no item type lifts it, the consumer refuses tombstones and items of another
 * key (control-consumer.ts), and the control topic does not compact a record
 * before it is LONGEST_CERTIFICATE_VALIDITY_MS old (kafka-control-channel.ts),
 * so a revocation stays on the topic until the certificate it revokes has
 * expired, whatever lands under its key afterwards.
 */
import { ControlItemError, type ControlItem, type UnsignedControlItem } from "./control-item.js";

export const REVOCATION_ITEM = "revocation";

/**
 * The longest validity `credex pki issue`/`renew` grants (--days ≤ 3650). A
 * revocation is published after the certificate was issued, so it outlives
 * the certificate when it is kept this long after publication.
 */
export const LONGEST_CERTIFICATE_VALIDITY_MS = 3650 * 24 * 3600 * 1000;

export interface RevocationNotice {
  readonly serial: string;
  readonly reason: string;
  readonly revokedAt: Date;
}

const normalize = (serial: string) => serial.replace(/[:\s]/g, "").toUpperCase().replace(/^0+(?=.)/, "");

export function revocationItem(notice: RevocationNotice, issuedAt = new Date()): UnsignedControlItem {
  const serial = normalize(notice.serial);
  if (!/^[0-9A-F]{1,64}$/.test(serial)) throw new RangeError(`serial "${notice.serial}" is not hexadecimal`);
  const payload = Buffer.from(JSON.stringify({ serial, reason: notice.reason, revokedAt: notice.revokedAt.toISOString() }), "utf8");
  return { type: REVOCATION_ITEM, id: serial, issuedAt, payload };
}

export function revocationOf(item: ControlItem): RevocationNotice {
  let doc: { serial?: unknown; reason?: unknown; revokedAt?: unknown };
  try {
    doc = JSON.parse(Buffer.from(item.payload).toString("utf8")) as typeof doc;
  } catch {
    throw new ControlItemError("BAD_PAYLOAD", "the revocation payload is not JSON");
  }
  if (typeof doc.serial !== "string" || typeof doc.reason !== "string" || typeof doc.revokedAt !== "string") {
    throw new ControlItemError("BAD_PAYLOAD", "the revocation payload needs serial, reason and revokedAt strings");
  }
  const serial = normalize(doc.serial);
  // The key names the certificate: a payload about another serial would let one record shadow another.
  if (serial !== item.id) throw new ControlItemError("BAD_PAYLOAD", `the revocation payload names serial ${serial}, the item id ${item.id}`);
  const revokedAt = new Date(doc.revokedAt);
  if (Number.isNaN(revokedAt.getTime())) throw new ControlItemError("BAD_PAYLOAD", "revokedAt is not a time");
  return { serial, reason: doc.reason, revokedAt };
}
