/**
 * Runtime settings an officer (or a playbook) sets on one replica and every
 * replica of the fleet must apply: an agency's suspension, an agency's
 * throttle, restricted mode. They travel as control items on the control
 * topic, one key per setting — `agency-suspension/<agency>`,
 * `agency-throttle/<agency>`, `restricted-mode/fleet` — so compaction keeps
 * the latest per agency and setting, and a replica that starts reads them
 * all before it serves.
 *
 * Unlike revocations and policy bundles (signed with the issuing CA's key,
 * which no gateway holds), these are signed by the replica that executed the
 * officer's authenticated admin call, with its gateway key, and name the
 * officer (`actor`). The payload carries the signer's certificate; a replica
 * accepts the item only if that certificate is the signer's, was issued by a
 * CA it trusts, was valid when the item was issued, is not revoked, and names
 * the gateway (`spiffe://<trust domain>/gateway`): an agency's or an
 * officer's certificate from the same CA cannot sign one (SIGNER_NOT_A_REPLICA).
 *
 * Order: each item carries a sequence one above the setting's sequence on
 * the replica that wrote it; a replica applies an item only if
 * (sequence, issuedAt, signer) is above the one in force for its key. Writes
 * made one after another therefore win in the order they were made (the
 * log's order), two concurrent writes resolve the same way on every replica,
 * and a signed item copied back onto the topic later (a replay of "resumed"
 * over "suspended") is refused as ROLLBACK.
 *
 * Payload: UTF-8 JSON {"v": 1, "sequence", "actor", "certificate" (base64
 * DER of the signer), and the setting: "suspended" + "reason" |
 * "ratePerSecond" + "burst" (0: lifted) | "on"}.
 */
import { verify, X509Certificate } from "node:crypto";
import { describePeerCertificate } from "../peer-certificate.js";
import { ControlItemError, controlItemKey, fingerprintOf, signingInput, type ControlItem, type UnsignedControlItem } from "./control-item.js";

export const AGENCY_SUSPENSION_ITEM = "agency-suspension";
export const AGENCY_THROTTLE_ITEM = "agency-throttle";
export const RESTRICTED_MODE_ITEM = "restricted-mode";
export const RUNTIME_SETTING_ITEMS = [AGENCY_SUSPENSION_ITEM, AGENCY_THROTTLE_ITEM, RESTRICTED_MODE_ITEM] as const;
/** The one id of restricted mode: a setting of the whole fleet. */
const FLEET = "fleet";

export type RuntimeSetting =
  | { readonly kind: typeof AGENCY_SUSPENSION_ITEM; readonly agency: string; readonly suspended: boolean; readonly reason: string }
  /** ratePerSecond 0: the throttle is lifted (the configured default applies). */
  | { readonly kind: typeof AGENCY_THROTTLE_ITEM; readonly agency: string; readonly ratePerSecond: number; readonly burst: number }
  | { readonly kind: typeof RESTRICTED_MODE_ITEM; readonly on: boolean };

export interface RuntimeSettingRecord {
  readonly setting: RuntimeSetting;
  readonly sequence: number;
  /** Who set it: "admin/<role>/<name>" for an officer, "playbook:<name>" for a playbook. */
  readonly actor: string;
  /** The replica certificate that signed the item. */
  readonly certificate: X509Certificate;
}

/** The order of items under one key: sequence, then issue time, then signer fingerprint (a total order every replica computes alike). */
export interface SettingOrder {
  readonly sequence: number;
  readonly issuedAt: Date;
  readonly signer: string;
}

export function compareSettingOrder(a: SettingOrder, b: SettingOrder): number {
  return a.sequence - b.sequence || a.issuedAt.getTime() - b.issuedAt.getTime() || (a.signer < b.signer ? -1 : a.signer > b.signer ? 1 : 0);
}

/** The record key of a setting (`<type>/<agency or "fleet">`). */
export function settingKey(setting: RuntimeSetting): string {
  return controlItemKey({ type: setting.kind, id: setting.kind === RESTRICTED_MODE_ITEM ? FLEET : setting.agency });
}

const ACTOR = /^[A-Za-z0-9._:/@-]{1,200}$/;

export function runtimeSettingItem(setting: RuntimeSetting, options: { sequence: number; actor: string; certificate: X509Certificate; issuedAt?: Date }): UnsignedControlItem {
  if (!Number.isSafeInteger(options.sequence) || options.sequence < 1) throw new RangeError(`sequence ${options.sequence} must be a positive integer`);
  if (!ACTOR.test(options.actor)) throw new RangeError(`actor "${options.actor}" must be 1-200 of A-Z a-z 0-9 . _ : / @ -`);
  const { kind, ...fields } = setting;
  if (kind === AGENCY_THROTTLE_ITEM) checkThrottle(setting.ratePerSecond, setting.burst, RangeError);
  const doc = { v: 1, sequence: options.sequence, actor: options.actor, certificate: options.certificate.raw.toString("base64"), ...fields };
  const id = kind === RESTRICTED_MODE_ITEM ? FLEET : setting.agency;
  return { type: kind, id, issuedAt: options.issuedAt ?? new Date(), payload: Buffer.from(JSON.stringify(doc), "utf8") };
}

function checkThrottle(rate: unknown, burst: unknown, E: new (m: string) => Error): void {
  if (typeof rate !== "number" || typeof burst !== "number" || !Number.isFinite(rate) || rate < 0 || (rate > 0 && !(burst >= 1))) {
    throw new E("a throttle needs ratePerSecond ≥ 0 (0 lifts it) and, when above 0, burst ≥ 1");
  }
}

/** The setting an item carries; throws ControlItemError("BAD_PAYLOAD"). Says nothing about who signed it: see verifyRuntimeSettingItem. */
export function runtimeSettingOf(item: Pick<ControlItem, "type" | "id" | "payload">): RuntimeSettingRecord {
  const bad = (message: string) => new ControlItemError("BAD_PAYLOAD", message, controlItemKey(item));
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(item.payload).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw bad(`the ${item.type} payload is not JSON`);
  }
  if (doc?.["v"] !== 1) throw bad(`unsupported ${item.type} payload version ${JSON.stringify(doc?.["v"])}`);
  const { sequence, actor, certificate } = doc;
  if (typeof sequence !== "number" || !Number.isSafeInteger(sequence) || sequence < 1) throw bad("sequence is not a positive integer");
  if (typeof actor !== "string" || !ACTOR.test(actor)) throw bad("actor is missing or has characters outside A-Z a-z 0-9 . _ : / @ -");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(String(certificate), "base64"));
  } catch {
    throw bad("certificate is not a DER certificate");
  }
  let setting: RuntimeSetting;
  if (item.type === RESTRICTED_MODE_ITEM) {
    if (item.id !== FLEET) throw bad(`restricted mode is a setting of the fleet: id "${item.id}" is not "${FLEET}"`);
    if (typeof doc["on"] !== "boolean") throw bad('restricted mode needs a boolean "on"');
    setting = { kind: RESTRICTED_MODE_ITEM, on: doc["on"] };
  } else {
    // The key names the agency: a payload about another agency would let one record shadow another.
    if (doc["agency"] !== item.id) throw bad(`the payload names agency ${JSON.stringify(doc["agency"])}, the item id ${item.id}`);
    if (item.type === AGENCY_SUSPENSION_ITEM) {
      if (typeof doc["suspended"] !== "boolean" || typeof doc["reason"] !== "string") throw bad('a suspension needs a boolean "suspended" and a string "reason"');
      setting = { kind: AGENCY_SUSPENSION_ITEM, agency: item.id, suspended: doc["suspended"], reason: doc["reason"] };
    } else if (item.type === AGENCY_THROTTLE_ITEM) {
      try {
        checkThrottle(doc["ratePerSecond"], doc["burst"], Error);
      } catch (err) {
        throw bad((err as Error).message);
      }
      setting = { kind: AGENCY_THROTTLE_ITEM, agency: item.id, ratePerSecond: doc["ratePerSecond"] as number, burst: doc["burst"] as number };
    } else {
      throw bad(`not a runtime setting: type "${item.type}"`);
    }
  }
  return { setting, sequence, actor, certificate: cert };
}

export interface ReplicaTrust {
  /** The trust domain whose gateway identity may sign (`spiffe://<domain>/gateway`). */
  readonly trustDomain: string;
  /** True when the serial (lowercase hex as node:crypto gives it) is revoked on this replica. */
  readonly isRevoked: (serial: string) => boolean;
}

/**
 * Throws ControlItemError unless a replica of this fleet signed the item:
 * the certificate in the payload is the signer's, a trusted CA issued it, it
 * was valid at issuedAt, is not revoked, and names the gateway.
 */
export function verifyRuntimeSettingItem(item: ControlItem, trusted: readonly X509Certificate[], trust: ReplicaTrust): RuntimeSettingRecord {
  const key = controlItemKey(item);
  const record = runtimeSettingOf(item);
  const cert = record.certificate;
  if (fingerprintOf(cert) !== item.signer) throw new ControlItemError("UNKNOWN_SIGNER", `control item ${key}: the certificate it carries is not its signer's`, key);
  if (!trusted.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    throw new ControlItemError("UNKNOWN_SIGNER", `control item ${key} is signed by ${item.signer.slice(0, 16)}…, whose certificate no trusted CA issued`, key);
  }
  const at = item.issuedAt.getTime();
  if (at < Date.parse(cert.validFrom) || at > Date.parse(cert.validTo)) {
    throw new ControlItemError("UNKNOWN_SIGNER", `control item ${key}: the signer's certificate was not valid at ${item.issuedAt.toISOString()}`, key);
  }
  if (trust.isRevoked(cert.serialNumber.toLowerCase())) throw new ControlItemError("UNKNOWN_SIGNER", `control item ${key}: the signer's certificate ${cert.serialNumber} is revoked`, key);
  const principal = describePeerCertificate(cert.raw, trust.trustDomain).principal;
  if (principal?.kind !== "gateway") {
    const who = principal ? (principal.kind === "admin" ? `admin/${principal.role}/${principal.name}` : principal.kind === "agency" ? `agency ${principal.agencyId}` : `provider ${principal.providerId}`) : "no credex identity";
    throw new ControlItemError("SIGNER_NOT_A_REPLICA", `control item ${key} is signed by ${who}, not by a gateway replica of trust domain ${trust.trustDomain}`, key);
  }
  let ok = false;
  try {
    ok = verify("sha256", signingInput(item, item.signer), cert.publicKey, item.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ControlItemError("BAD_SIGNATURE", `control item ${key}: the signature does not verify`, key);
  return record;
}
