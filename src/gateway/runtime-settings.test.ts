import { createPrivateKey, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createCa, issueCertificate } from "../adapters/pki/certificate-authority.js";
import { createMemoryControlChannel, type ControlChannel, type ControlRecord } from "../core/control/control-channel.js";
import { startControlConsumer } from "../core/control/control-consumer.js";
import { decodeControlItem } from "../core/control/control-item.js";
import { CredexError } from "../core/errors.js";
import { AgencyRegistry } from "../core/registry.js";
import { createRuntimeSettings, type RuntimeSettingRefused, type RuntimeSettings } from "./runtime-settings.js";

const TRUST_DOMAIN = "credex.test";
let ca: X509Certificate;
const signers: Array<{ certificate: X509Certificate; key: ReturnType<typeof createPrivateKey> }> = [];

beforeAll(async () => {
  const issuing = await createCa({ commonName: "runtime settings issuing", keyBits: 2048 });
  ca = new X509Certificate(issuing.certPem);
  for (const name of ["gw-a", "gw-b"]) {
    const c = await issueCertificate({ kind: "gateway", name, issuer: issuing, trustDomain: TRUST_DOMAIN, keyBits: 2048 });
    signers.push({ certificate: new X509Certificate(c.certPem), key: createPrivateKey(c.keyPem) });
  }
});

const agencies = [{ id: "csrc", name: "CSRC", sector: "SECURITIES" as const, uscc: "91110000717828315T", categories: [], clearance: 4, protectionLevel: 3, status: "active" as const }];

interface Replica {
  settings: RuntimeSettings;
  registry: AgencyRegistry;
  refused: RuntimeSettingRefused[];
  restricted: () => boolean;
}

/** A replica's settings on a channel, consumed like the gateway does (the consumer verifies with the replica verifier). */
async function replica(signer: number, channel: ControlChannel | undefined, publish?: (r: ControlRecord) => Promise<void>): Promise<Replica> {
  const registry = new AgencyRegistry(agencies);
  const refused: RuntimeSettingRefused[] = [];
  let restricted = false;
  const settings = createRuntimeSettings({
    registry,
    setRestricted: (on) => void (restricted = on),
    trust: { trustDomain: TRUST_DOMAIN, isRevoked: () => false },
    trusted: () => [ca],
    signer: () => signers[signer]!,
    publish: () => publish ?? (channel ? (r) => channel.publish(r) : undefined),
    log: () => undefined,
    onRefused: (r) => refused.push(r),
  });
  if (channel) {
    await startControlConsumer({ channel, trusted: () => [ca], handlers: settings.handlers, verifiers: settings.verifiers, onRejected: (err, key) => settings.refused(err, key) });
  }
  return { settings, registry, refused, restricted: () => restricted };
}

describe("runtime settings of one replica", () => {
  it("ok/set applies here before it returns, publishes one record under the setting's key, and the echo from the topic changes nothing", async () => {
    const channel = createMemoryControlChannel();
    const published: ControlRecord[] = [];
    await channel.subscribe((r) => published.push(r));
    const a = await replica(0, channel);
    await a.settings.set({ kind: "agency-suspension", agency: "csrc", suspended: true, reason: "harvesting" }, "admin/security/alice");
    expect(a.registry.suspensionOf("csrc")).toBe("harvesting (by admin/security/alice)");
    expect(published.map((r) => r.key)).toEqual(["agency-suspension/csrc"]);
    expect([a.settings.applied(), a.settings.rejected()]).toEqual([1, 0]);
  });

  it("ok/no control channel: set applies on this replica through the same verification", async () => {
    const a = await replica(0, undefined);
    await a.settings.set({ kind: "restricted-mode", on: true }, "playbook");
    expect(a.restricted()).toBe(true);
    expect(a.settings.inForce("restricted-mode/fleet")).toMatchObject({ sequence: 1, actor: "playbook" });
  });

  it("fail/the topic does not take it: CONTROL_PUBLISH_FAILED, and the setting holds on this replica", async () => {
    const a = await replica(0, undefined, async () => {
      throw new Error("broker unreachable");
    });
    const err = await a.settings.set({ kind: "agency-suspension", agency: "csrc", suspended: true, reason: "r" }, "admin/security/alice").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredexError);
    expect((err as CredexError).reason).toBe("CONTROL_PUBLISH_FAILED");
    expect((err as CredexError).message).toBe("agency-suspension/csrc is in force on this replica only: the control topic did not take it (broker unreachable)");
    expect(a.registry.suspensionOf("csrc")).toBeDefined();
  });
});

describe("runtime settings across replicas (one channel)", () => {
  it("ok/two officers set the same setting on two replicas at once: both replicas end with the same value; the losing write is superseded, not reported", async () => {
    // Both write sequence 1 before either has read the other's item: held back, then delivered.
    const held: ControlRecord[] = [];
    const a = await replica(0, undefined, async (r) => void held.push(r));
    const b = await replica(1, undefined, async (r) => void held.push(r));
    await a.settings.set({ kind: "agency-suspension", agency: "csrc", suspended: true, reason: "a" }, "admin/security/alice");
    await b.settings.set({ kind: "agency-suspension", agency: "csrc", suspended: false, reason: "" }, "admin/security/bob");
    const channel = createMemoryControlChannel();
    for (const r of held) await channel.publish(r);
    const a2 = await replica(0, channel);
    const b2 = await replica(1, channel);
    // Replicas that replay the same log and replicas that applied their own write first converge alike.
    for (const r of [a, b]) for (const record of held) deliver(r, record);
    const states = [a, b, a2, b2].map((r) => r.registry.suspensionOf("csrc") ?? "active");
    expect(new Set(states).size).toBe(1);
    expect([a, b, a2, b2].flatMap((r) => r.refused)).toEqual([]);
  });

  it("fail/replay: a copy of an older item after a newer one is ROLLBACK, reported; the newer setting stays", async () => {
    const channel = createMemoryControlChannel();
    const log: ControlRecord[] = [];
    await channel.subscribe((r) => log.push(r));
    const a = await replica(0, channel);
    const b = await replica(1, channel);
    await a.settings.set({ kind: "agency-suspension", agency: "csrc", suspended: false, reason: "" }, "admin/security/alice");
    await a.settings.set({ kind: "agency-suspension", agency: "csrc", suspended: true, reason: "again" }, "admin/security/alice");
    await channel.publish(log[0]!);
    for (const r of [a, b]) {
      expect(r.registry.suspensionOf("csrc")).toBe("again (by admin/security/alice)");
      expect(r.refused.map((x) => x.reason)).toEqual(["ROLLBACK"]);
    }
  });
});

/** Hands a record to a replica built without a channel, as its consumer would. */
function deliver(r: Replica, record: ControlRecord): void {
  const item = decodeControlItem(record.value);
  try {
    r.settings.verifiers[item.type]!(item, [ca]);
    r.settings.handlers[item.type]!(item);
  } catch (err) {
    r.settings.refused(err as never, record.key);
  }
}
