import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDevPki, type DevPki } from "../adapters/pki/dev-pki.js";
import { createCa } from "../adapters/pki/certificate-authority.js";
import { parseGatewayConfig } from "../config/gateway-config.js";
import type { CertificateExpiring } from "../core/certificate-expiry.js";
import { createMemoryControlChannel } from "../core/control/control-channel.js";
import { controlItemKey, encodeControlItem, signControlItem } from "../core/control/control-item.js";
import { revocationItem } from "../core/control/revocation-item.js";
import { startGatewayCertificates } from "./gateway-certificates.js";
import { RevocationSet } from "./revocation-set.js";

const USCC = "91310110666007217T";
let root: string;
let pki: DevPki;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "credex-gwcerts-"));
  pki = await createDevPki(join(root, "pki"), { trustDomain: "credex.test", agencies: [{ id: "a1", sector: "BANKING", uscc: USCC }], keyBits: 2048 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const configOf = () =>
  parseGatewayConfig(join(root, "gw.yaml"), {
    instance: "gw-t",
    trustDomain: "credex.test",
    listen: "127.0.0.1:0",
    tls: { cert: pki.gateway.cert, key: pki.gateway.key, ca: pki.caBundle, watch: false },
    policy: { model: "m", policy: "p", categories: "c" },
    agencies: [],
    audit: { sink: "file", keyRing: "k" },
  });

describe("gateway certificates", () => {
  it("ok/expiry: the gateway's own certificate is reported at the threshold it has crossed; certificateExpiry() lists it", async () => {
    const notAfter = new Date(new X509Certificate(readFileSync(pki.gateway.cert)).validTo);
    const events: CertificateExpiring[] = [];
    const certs = await startGatewayCertificates({
      config: configOf(),
      apply: () => undefined,
      revocations: new RevocationSet(),
      onCertificateExpiring: (e) => events.push(e),
      now: () => new Date(notAfter.getTime() - 5 * 24 * 3600 * 1000),
      log: () => undefined,
    });
    try {
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ subject: "gateway", daysLeft: 5, thresholdDays: 7, notAfter });
      expect(certs.certificateExpiry()).toEqual([{ subject: "gateway", serial: events[0]!.serial, notAfter, daysLeft: 5 }]);
    } finally {
      await certs.close();
    }
  });

  it("ok/control: a revocation signed by the issuing CA is applied; one signed by an untrusted key is refused and logged", async () => {
    const channel = createMemoryControlChannel();
    const issuing = { cert: new X509Certificate(readFileSync(pki.issuingCaCert)), key: createPrivateKey(readFileSync(pki.issuingCaKey)) };
    const good = signControlItem(revocationItem({ serial: pki.agencies["a1"]!.client.serial, reason: "keyCompromise", revokedAt: new Date() }), issuing.cert, issuing.key);
    await channel.publish({ key: controlItemKey(good), value: encodeControlItem(good) });
    const revocations = new RevocationSet();
    const logs: Array<Record<string, unknown>> = [];
    const certs = await startGatewayCertificates({ config: configOf(), apply: () => undefined, revocations, controlChannel: channel, log: (f) => logs.push(f) });
    try {
      expect(revocations.lookup(pki.agencies["a1"]!.client.serial)?.reason).toBe("keyCompromise");
      const rogue = await createCa({ commonName: "rogue", keyBits: 2048 });
      const bad = signControlItem(revocationItem({ serial: "0F0F", reason: "keyCompromise", revokedAt: new Date() }), new X509Certificate(rogue.certPem), createPrivateKey(rogue.keyPem));
      await channel.publish({ key: controlItemKey(bad), value: encodeControlItem(bad) });
      expect(revocations.lookup("0F0F")).toBeUndefined();
      expect(certs.control?.rejected()).toBe(1);
      expect(logs.find((l) => l["msg"] === "control item refused")).toMatchObject({ key: "revocation/F0F", reason: "UNKNOWN_SIGNER" });
    } finally {
      await certs.close();
    }
  });

  it("fail/start: a gateway does not start on a key that is not its certificate's", async () => {
    const config = { ...configOf(), tls: { ...configOf().tls, key: pki.agencies["a1"]!.client.key } };
    await expect(startGatewayCertificates({ config, apply: () => undefined, revocations: new RevocationSet(), log: () => undefined })).rejects.toThrow(/does not belong to the certificate/);
  });
});
