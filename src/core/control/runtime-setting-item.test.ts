import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createCa, issueCertificate } from "../../adapters/pki/certificate-authority.js";
import { createMemoryControlChannel } from "./control-channel.js";
import { startControlConsumer } from "./control-consumer.js";
import { controlItemKey, encodeControlItem, signControlItem, type ControlItem } from "./control-item.js";
import {
  compareSettingOrder,
  runtimeSettingItem,
  runtimeSettingOf,
  RUNTIME_SETTING_ITEMS,
  verifyRuntimeSettingItem,
  type RuntimeSetting,
} from "./runtime-setting-item.js";

const TRUST_DOMAIN = "credex.test";
const OFFICER = "admin/security/alice";
let ca: X509Certificate;
let gateway: { cert: X509Certificate; key: KeyObject };
let agency: { cert: X509Certificate; key: KeyObject };

beforeAll(async () => {
  const issuing = await createCa({ commonName: "runtime settings issuing", keyBits: 2048 });
  ca = new X509Certificate(issuing.certPem);
  const load = (c: { certPem: string; keyPem: string }) => ({ cert: new X509Certificate(c.certPem), key: createPrivateKey(c.keyPem) });
  gateway = load(await issueCertificate({ kind: "gateway", name: "gw-1", issuer: issuing, trustDomain: TRUST_DOMAIN, keyBits: 2048 }));
  agency = load(await issueCertificate({ kind: "agency", name: "csrc", uscc: "91110000717828315T", sector: "SECURITIES", issuer: issuing, trustDomain: TRUST_DOMAIN, keyBits: 2048 }));
});

const SUSPEND: RuntimeSetting = { kind: "agency-suspension", agency: "csrc", suspended: true, reason: "harvesting" };
const trust = { trustDomain: TRUST_DOMAIN, isRevoked: () => false };
const signed = (setting: RuntimeSetting, sequence: number, by = gateway, issuedAt?: Date): ControlItem =>
  signControlItem(runtimeSettingItem(setting, { sequence, actor: OFFICER, certificate: by.cert, ...(issuedAt ? { issuedAt } : {}) }), by.cert, by.key);
const reasonOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return `${(err as { reason: string }).reason}: ${(err as Error).message}`;
  }
  throw new Error("expected a ControlItemError");
};

describe("runtime setting items (fleet-wide suspension, throttle, restricted mode)", () => {
  it("ok/round-trip: signed by a gateway replica, verified with the CA bundle, under one key per agency and setting", () => {
    const item = signed(SUSPEND, 3);
    expect(controlItemKey(item)).toBe("agency-suspension/csrc");
    expect(controlItemKey(signed({ kind: "restricted-mode", on: true }, 1))).toBe("restricted-mode/fleet");
    const record = verifyRuntimeSettingItem(item, [ca], trust);
    expect([record.setting, record.sequence, record.actor, record.certificate.fingerprint256]).toEqual([SUSPEND, 3, OFFICER, gateway.cert.fingerprint256]);
  });

  it("fail/peer: an agency's certificate from the same CA cannot sign one (SIGNER_NOT_A_REPLICA)", () => {
    expect(reasonOf(() => verifyRuntimeSettingItem(signed(SUSPEND, 1, agency), [ca], trust))).toBe(
      "SIGNER_NOT_A_REPLICA: control item agency-suspension/csrc is signed by agency csrc, not by a gateway replica of trust domain credex.test",
    );
  });

  it("fail/untrusted, revoked, expired at issue, another trust domain: the replica's certificate must be one this fleet trusts now", () => {
    const item = signed(SUSPEND, 1);
    expect(reasonOf(() => verifyRuntimeSettingItem(item, [], trust))).toMatch(/^UNKNOWN_SIGNER: .*whose certificate no trusted CA issued$/);
    expect(reasonOf(() => verifyRuntimeSettingItem(item, [ca], { ...trust, isRevoked: (s) => s === gateway.cert.serialNumber.toLowerCase() }))).toMatch(/^UNKNOWN_SIGNER: .* is revoked$/);
    expect(reasonOf(() => verifyRuntimeSettingItem(signed(SUSPEND, 1, gateway, new Date("2001-01-01T00:00:00Z")), [ca], trust))).toBe(
      "UNKNOWN_SIGNER: control item agency-suspension/csrc: the signer's certificate was not valid at 2001-01-01T00:00:00.000Z",
    );
    expect(reasonOf(() => verifyRuntimeSettingItem(item, [ca], { ...trust, trustDomain: "other.test" }))).toMatch(/^SIGNER_NOT_A_REPLICA: .*signed by no credex identity/);
  });

  it("fail/changed: a payload changed after signing, or a certificate swapped for another replica's", () => {
    const item = signed(SUSPEND, 1);
    const doc = JSON.parse(Buffer.from(item.payload).toString("utf8")) as Record<string, unknown>;
    const resumed = { ...item, payload: Buffer.from(JSON.stringify({ ...doc, suspended: false })) };
    expect(reasonOf(() => verifyRuntimeSettingItem(resumed, [ca], trust))).toBe("BAD_SIGNATURE: control item agency-suspension/csrc: the signature does not verify");
    const swapped = { ...item, payload: Buffer.from(JSON.stringify({ ...doc, certificate: agency.cert.raw.toString("base64") })) };
    expect(reasonOf(() => verifyRuntimeSettingItem(swapped, [ca], trust))).toBe("UNKNOWN_SIGNER: control item agency-suspension/csrc: the certificate it carries is not its signer's");
  });

  it("fail/payload: another agency than the key, a bad throttle, restricted mode under an agency id", () => {
    const base = runtimeSettingItem(SUSPEND, { sequence: 1, actor: OFFICER, certificate: gateway.cert });
    const withDoc = (patch: Record<string, unknown>, over: Partial<ControlItem> = {}) => {
      const doc = JSON.parse(Buffer.from(base.payload).toString("utf8")) as Record<string, unknown>;
      return { ...base, ...over, payload: Buffer.from(JSON.stringify({ ...doc, ...patch })) };
    };
    expect(reasonOf(() => runtimeSettingOf(withDoc({ agency: "pbccrc" })))).toBe('BAD_PAYLOAD: the payload names agency "pbccrc", the item id csrc');
    expect(reasonOf(() => runtimeSettingOf(withDoc({ ratePerSecond: -1, burst: 1 }, { type: "agency-throttle" })))).toMatch(/^BAD_PAYLOAD: a throttle needs ratePerSecond ≥ 0/);
    expect(reasonOf(() => runtimeSettingOf(withDoc({ on: true }, { type: "restricted-mode" })))).toBe('BAD_PAYLOAD: restricted mode is a setting of the fleet: id "csrc" is not "fleet"');
    expect(reasonOf(() => runtimeSettingOf(withDoc({ sequence: 0 })))).toBe("BAD_PAYLOAD: sequence is not a positive integer");
  });

  it("ok/order: sequence first, then issue time, then signer — the same total order on every replica", () => {
    const a = { sequence: 2, issuedAt: new Date(1_000), signer: "aa" };
    expect(compareSettingOrder(a, { ...a, sequence: 1, issuedAt: new Date(9_000) })).toBeGreaterThan(0);
    expect(compareSettingOrder(a, { ...a, issuedAt: new Date(2_000) })).toBeLessThan(0);
    expect(compareSettingOrder(a, { ...a, signer: "ab" })).toBeLessThan(0);
    expect(compareSettingOrder(a, { ...a })).toBe(0);
  });

  it("ok/consumer: replica-signed items pass the consumer with their own verifier; the CA-signed check still applies to every other type", async () => {
    const channel = createMemoryControlChannel();
    const applied: string[] = [];
    const rejected: string[] = [];
    const verify = (item: ControlItem, trusted: readonly X509Certificate[]) => void verifyRuntimeSettingItem(item, trusted, trust);
    await startControlConsumer({
      channel,
      trusted: () => [ca],
      handlers: Object.fromEntries(RUNTIME_SETTING_ITEMS.map((t) => [t, (item: ControlItem) => applied.push(controlItemKey(item))])),
      verifiers: Object.fromEntries(RUNTIME_SETTING_ITEMS.map((t) => [t, verify])),
      onRejected: (err) => rejected.push(err.reason),
    });
    const put = (item: ControlItem) => channel.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
    await put(signed(SUSPEND, 1));
    await put(signed(SUSPEND, 2, agency));
    // A revocation signed by the gateway: replicas sign runtime settings only, never revocations.
    await put(signControlItem({ type: "revocation", id: "AB", issuedAt: new Date(), payload: Buffer.from("{}") }, gateway.cert, gateway.key));
    expect(applied).toEqual(["agency-suspension/csrc"]);
    expect(rejected).toEqual(["SIGNER_NOT_A_REPLICA", "UNKNOWN_SIGNER"]);
  });
});
