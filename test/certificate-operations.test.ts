/**
 * Certificate operations on a running federation (issue 5, parts 2 and 3):
 * rotation and revocation under load over real mTLS, refusals of bad
 * certificates, and revocations travelling over the control topic to every
 * gateway replica. Each step of README.md "Rotating and revoking certificates" names the test
 * here that covers it.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { loadCa, createCa, issueCertificate } from "../src/adapters/pki/certificate-authority.js";
import { issueTestCertificate, type TestCertificateFlaw } from "../src/adapters/pki/test-certificates.js";
import { createKafkaControlChannel } from "../src/adapters/kafka/kafka-control-channel.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { readAuditLogFile } from "../src/adapters/audit/audit-log-file.js";
import { certificateFingerprint, decodeCheckpoint } from "../src/core/audit/checkpoint.js";
import { controlItemKey, encodeControlItem, signControlItem } from "../src/core/control/control-item.js";
import { revocationItem } from "../src/core/control/revocation-item.js";
import { DEMO_AGENCIES } from "../src/demo/demo-agencies.js";
import { startGateway, type RunningGateway } from "../src/gateway/gateway.js";
import { buildGatewayParts } from "../src/gateway/gateway-parts.js";
import { failureOf, startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";
import { credex, pause, PUBLIC_QUERY, replaceFile, servedSerial, startLoad, until } from "./support/certificate-ops.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let pkiDir: string;
const topic = `credex.control.v1.test-${Date.now().toString(36)}`;
const extraGateways: RunningGateway[] = [];
/** Loads still running when a test failed half-way: stopped before the federation goes. */
const stopOnFailure: Array<{ stop(): Promise<unknown> }> = [];

beforeAll(async () => {
  fed = await startTestFederation({ gatewayConfig: { control: { kafka: { brokers: [kafkaBrokers()], topic } } } });
  pkiDir = fed.pki.dir;
}, 120_000);
afterAll(async () => {
  await Promise.all(stopOnFailure.map((l) => l.stop()));
  await Promise.all(extraGateways.map((g) => g.stop(2_000)));
  await fed?.cleanup();
});

const agency = (id: string) => DEMO_AGENCIES.find((a) => a.id === id)!;

/** Another replica of the federation's gateway: same agencies and TLS files, its own audit files. */
async function startReplica(instance: string, tls: Record<string, unknown> = {}): Promise<RunningGateway> {
  const doc = parseYaml(readFileSync(fed.configFile, "utf8")) as Record<string, Record<string, unknown>>;
  doc["instance"] = instance as never;
  doc["tls"] = { ...doc["tls"], ...tls };
  doc["audit"] = { ...doc["audit"], file: `audit/${instance}.log`, chainState: `audit/${instance}-chain.json` };
  const file = join(fed.dir, `${instance}.yaml`);
  writeFileSync(file, toYaml(doc));
  const config = loadGatewayConfig(file);
  const gateway = await startGateway(config, await buildGatewayParts(config));
  extraGateways.push(gateway);
  return gateway;
}

describe("the demo's PKI directory is a CA directory", () => {
  it("credex pki list shows the gateway and every agency certificate of the demo federation", async () => {
    const r = await credex("pki", "list", "--dir", pkiDir, "--json");
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; kind: string; state: string; serial: string }>;
    expect(rows.map((x) => `${x.kind}:${x.name}:${x.state}`).sort()).toEqual(
      ["gateway:gateway:valid", ...DEMO_AGENCIES.map((a) => `agency:${a.id}:valid`)].sort(),
    );
    expect(rows.find((x) => x.name === "nfra")!.serial).toBe(fed.pki.agencies["nfra"]!.client.serial);
  });
});

describe("rotation under load", () => {
  it("the server certificate, then the CA bundle (old + new CA), are rotated: zero failed calls for valid clients", async () => {
    const load = startLoad(fed, { persistent: ["pbccrc", "csrc", "sh-credit"], fresh: ["nfra"] });
    stopOnFailure.push(load);
    await pause(300);

    // 1. Renew the gateway certificate in the CA directory and put it in place (key first, then certificate).
    const renewed = await credex("pki", "renew", "gateway", "--dir", pkiDir);
    expect(renewed.code, renewed.stderr).toBe(0);
    const newSerial = /serial ([0-9a-f]+)/.exec(renewed.stdout)![1]!.toUpperCase();
    replaceFile(fed.pki.gateway.key, readFileSync(join(pkiDir, "issued", "gateway.key")));
    replaceFile(fed.pki.gateway.cert, readFileSync(join(pkiDir, "issued", "gateway.crt")));
    const client = fed.pki.agencies["pbccrc"]!.client;
    await until("the renewed certificate to be served", async () => ((await servedSerial(fed.gateway.address, fed.pki.caBundle, client)) === newSerial.replace(/^0+/, "") ? true : undefined));
    await pause(300);

    // 2. A CA change: a new CA; the bundle and the CRL files hold the old and the new CA's.
    const newCa = join(fed.dir, "new-ca");
    const init = await credex("pki", "init", "--dir", newCa, "--trust-domain", fed.pki.trustDomain);
    expect(init.code, init.stderr).toBe(0);
    replaceFile(fed.pki.caBundle, readFileSync(fed.pki.caBundle, "utf8") + readFileSync(join(newCa, "ca-bundle.pem"), "utf8"));
    replaceFile(fed.pki.rootCrl, readFileSync(fed.pki.rootCrl, "utf8") + readFileSync(join(newCa, "root-crl.pem"), "utf8"));
    replaceFile(fed.pki.crl, readFileSync(fed.pki.crl, "utf8") + readFileSync(join(newCa, "crl.pem"), "utf8"));
    const csrc = agency("csrc");
    const issued = await credex("pki", "issue", "--dir", newCa, "--agency", "csrc", "--sector", csrc.sector, "--uscc", csrc.uscc, "--key-bits", "2048");
    expect(issued.code, issued.stderr).toBe(0);
    // An agency holding a certificate of the new CA is accepted once the gateway trusts both CAs.
    // A new connection per attempt: TLS verifies a client once, at the handshake.
    await until("a new-CA client to be accepted", async () => {
      const newCaClient = createExchangeClient({
        address: fed.gateway.address,
        trustDomain: fed.pki.trustDomain,
        certFile: join(newCa, "issued", "csrc.crt"),
        keyFile: join(newCa, "issued", "csrc.key"),
        caFile: fed.pki.caBundle,
      });
      try {
        return (await newCaClient.query(PUBLIC_QUERY)).results.length > 0 ? true : undefined;
      } finally {
        newCaClient.close();
      }
    });
    await pause(300);

    // 3. The gateway moves to a certificate of the new CA (clients trust both CAs by now).
    const gwNew = await credex("pki", "issue", "--dir", newCa, "--gateway", "--key-bits", "2048");
    expect(gwNew.code, gwNew.stderr).toBe(0);
    const gwNewSerial = /serial ([0-9a-f]+)/.exec(gwNew.stdout)![1]!.toUpperCase().replace(/^0+/, "");
    replaceFile(fed.pki.gateway.key, readFileSync(join(newCa, "issued", "gateway.key")));
    replaceFile(fed.pki.gateway.cert, readFileSync(join(newCa, "issued", "gateway.crt")));
    await until("the new CA's gateway certificate to be served", async () => ((await servedSerial(fed.gateway.address, fed.pki.caBundle, client)) === gwNewSerial ? true : undefined));
    await pause(300);

    const { ok, failures } = await load.stop();
    console.info(`rotation under load: ${JSON.stringify(ok)} calls succeeded, ${failures.length} failed`);
    expect(failures).toEqual([]);
    for (const a of ["pbccrc", "csrc", "sh-credit", "nfra"]) expect(ok[a], a).toBeGreaterThan(3);
    expect(fed.gateway.certificateExpiry().find((e) => e.subject === "gateway")?.serial.toUpperCase().replace(/^0+/, "")).toBe(gwNewSerial);
    void newSerial;
  }, 60_000);

  it("a reference agency reloads its server certificate when its files change; the gateway's calls to it continue", async () => {
    const load = startLoad(fed, { persistent: ["pbccrc", "csrc"] });
    stopOnFailure.push(load);
    await pause(200);
    const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
    const issued = await issueCertificate({ issuer, trustDomain: fed.pki.trustDomain, kind: "provider", name: "safe", keyBits: 2048, days: 30 });
    const server = fed.pki.agencies["safe"]!.server;
    replaceFile(server.key, issued.keyPem);
    replaceFile(server.cert, issued.chainPem);
    const address = fed.agencies.get("safe")!.address;
    await until("the agency to serve its new certificate", async () => ((await servedSerial(address, fed.pki.caBundle, fed.pki.gateway)) === issued.serial.toUpperCase().replace(/^0+/, "") ? true : undefined));
    await pause(200);
    const { ok, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(ok["pbccrc"]).toBeGreaterThan(1);
  }, 30_000);

  it("credex pki renew <agency>: the agency's renewed certificate is accepted, and so is the previous one until it is revoked or expires", async () => {
    const r = await credex("pki", "renew", "sh-credit", "--dir", pkiDir);
    expect(r.code, r.stderr).toBe(0);
    const renewed = createExchangeClient({
      address: fed.gateway.address,
      trustDomain: fed.pki.trustDomain,
      certFile: join(pkiDir, "issued", "sh-credit.crt"),
      keyFile: join(pkiDir, "issued", "sh-credit.key"),
      caFile: fed.pki.caBundle,
    });
    try {
      expect((await renewed.query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
      expect((await fed.client("sh-credit").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
    } finally {
      renewed.close();
    }
  });

  it("the expiry watch lists the gateway's certificate and those agencies presented", () => {
    const subjects = fed.gateway.certificateExpiry().map((e) => e.subject);
    expect(subjects).toContain("gateway");
    expect(subjects).toContain("spiffe://credex.example/agency/pbccrc");
    for (const e of fed.gateway.certificateExpiry()) expect(e.daysLeft).toBeGreaterThan(300);
  });
});

describe("audit checkpoints across a rotation", () => {
  it("checkpoints are signed with the key served at the time; `credex audit verify --ca` checks those from before and after, a pin on the new certificate alone does not", async () => {
    const sink = fed.gateway.auditSink() as unknown as { checkpoint(): Promise<void> };
    expect((await fed.client("pbccrc").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
    await sink.checkpoint();
    const renewed = await credex("pki", "renew", "gateway", "--dir", pkiDir);
    expect(renewed.code, renewed.stderr).toBe(0);
    replaceFile(fed.pki.gateway.key, readFileSync(join(pkiDir, "issued", "gateway.key")));
    replaceFile(fed.pki.gateway.cert, readFileSync(join(pkiDir, "issued", "gateway.crt")));
    expect(fed.gateway.reloadTls().ok).toBe(true);
    expect((await fed.client("pbccrc").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
    await sink.checkpoint();

    const signers: string[] = [];
    for await (const e of readAuditLogFile(fed.manifest.auditLog)) if (e.kind === "checkpoint") signers.push(decodeCheckpoint(e.bytes).signerCertFingerprint);
    const served = certificateFingerprint(readFileSync(fed.pki.gateway.cert, "utf8"));
    expect(signers.at(-1)).toBe(served);
    expect(signers.at(-2)).not.toBe(served);

    const verify = ["audit", "verify", "--file", fed.manifest.auditLog, "--key-ring", fed.manifest.keyRing];
    const withCa = await credex(...verify, "--ca", fed.pki.caBundle, "--trust-domain", fed.pki.trustDomain);
    expect(withCa.code, withCa.stdout + withCa.stderr).toBe(0);
    expect(withCa.stdout).toContain("verify: OK");
    expect(withCa.stdout).not.toContain("not checked");
    const pinned = await credex(...verify, "--cert", fed.pki.gateway.cert);
    expect(pinned.code).not.toBe(0);
    expect(pinned.stdout).toContain("signed by an unknown certificate");
  }, 30_000);
});

describe("bad input is refused with its reason", () => {
  it("fail/malformed PEM and a key of another certificate: reloadTls refuses, the old material keeps serving", async () => {
    const certPem = readFileSync(fed.pki.gateway.cert);
    const keyPem = readFileSync(fed.pki.gateway.key);
    try {
      replaceFile(fed.pki.gateway.cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
      expect(() => fed.gateway.reloadTls()).toThrow(/gateway\.crt: certificate 1 cannot be parsed/);
      replaceFile(fed.pki.gateway.cert, certPem);
      replaceFile(fed.pki.gateway.key, readFileSync(fed.pki.agencies["csrc"]!.client.key));
      expect(() => fed.gateway.reloadTls()).toThrow(/gateway\.key does not belong to the certificate/);
      expect((await fed.client("pbccrc").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
    } finally {
      replaceFile(fed.pki.gateway.key, keyPem);
      replaceFile(fed.pki.gateway.cert, certPem);
    }
    expect(fed.gateway.reloadTls().ok).toBe(true);
  });

  const flaws: Array<[TestCertificateFlaw, string]> = [
    ["expired", "CLIENT_CERT_EXPIRED"],
    ["not-yet-valid", "CLIENT_CERT_NOT_YET_VALID"],
    ["server-auth-only", "CLIENT_CERT_WRONG_USAGE"],
    ["ca-as-client", "CLIENT_CERT_IS_CA"],
    ["other-ca-client", "CLIENT_CERT_UNTRUSTED"],
  ];
  it.each(flaws)("fail/%s client certificate → %s", async (flaw, reason) => {
    const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
    const pbccrc = agency("pbccrc");
    const bad = await issueTestCertificate({ flaw, issuer, trustDomain: fed.pki.trustDomain, agencyId: "pbccrc", uscc: pbccrc.uscc, sector: pbccrc.sector });
    const dir = join(fed.dir, `bad-${flaw}`);
    const files = { cert: `${dir}.crt`, key: `${dir}.key` };
    writeFileSync(files.cert, bad.chainPem);
    writeFileSync(files.key, bad.keyPem);
    const client = createExchangeClient({ address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: files.cert, keyFile: files.key, caFile: fed.pki.caBundle });
    try {
      expect((await failureOf(client.query(PUBLIC_QUERY))).reason).toBe(reason);
    } finally {
      client.close();
    }
  });

  it("fail/a SAN naming a different agency than the registry (csrc's identity with pbccrc's USCC) → CLIENT_IDENTITY_MISMATCH", async () => {
    const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
    const pbccrc = agency("pbccrc");
    const issued = await issueCertificate({ issuer, trustDomain: fed.pki.trustDomain, kind: "agency", name: "csrc", uscc: pbccrc.uscc, sector: pbccrc.sector, keyBits: 2048, days: 30 });
    const base = join(fed.dir, "san-mismatch");
    writeFileSync(`${base}.crt`, issued.chainPem);
    writeFileSync(`${base}.key`, issued.keyPem);
    const client = createExchangeClient({ address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: `${base}.crt`, keyFile: `${base}.key`, caFile: fed.pki.caBundle });
    try {
      const failure = await failureOf(client.query(PUBLIC_QUERY));
      expect(failure.reason).toBe("CLIENT_IDENTITY_MISMATCH");
      expect(failure.metadata).toMatchObject({ agency: "csrc", field: "serialNumber" });
    } finally {
      client.close();
    }
  });
});

describe("revocation under load", () => {
  it("credex pki revoke rewrites crl.pem; the gateway reloads it and the revoked agency's next call fails with the reason, on its open connection; others see no failure", async () => {
    const load = startLoad(fed, { persistent: ["pbccrc", "csrc", "sh-credit", "nfra"] });
    stopOnFailure.push(load);
    await pause(300);
    const serial = fed.pki.agencies["nfra"]!.client.serial;
    const r = await credex("pki", "revoke", "--dir", pkiDir, "--serial", serial, "--reason", "keyCompromise");
    expect(r.code, r.stderr).toBe(0);
    // Since the CA change above the served crl.pem holds both CAs' CRLs; `pki revoke` wrote this CA's
    // alone, which the gateway refuses (the new CA, still in the bundle, would lose its CRL: "CRL
    // replay"). The operator puts the new CA's CRL back beside it, as during the CA change.
    replaceFile(fed.pki.crl, readFileSync(fed.pki.crl, "utf8") + readFileSync(join(fed.dir, "new-ca", "crl.pem"), "utf8"));
    // From the new crl.pem on disk to the serial in the per-call revocation set: debounce (200 ms) + checked reload.
    const crlWritten = Date.now();
    const appliedMs = await until("the CRL to be reloaded", () => (fed.gateway.revocations.lookup(serial) ? Date.now() - crlWritten : undefined), 3_000);
    await until("nfra to be refused", () => (load.failuresOf("nfra").length > 0 ? true : undefined));
    await pause(300);
    const { ok, failures } = await load.stop();
    const nfra = failures.filter((f) => f.agency === "nfra");
    expect(failures.filter((f) => f.agency !== "nfra")).toEqual([]);
    for (const a of ["pbccrc", "csrc", "sh-credit"]) expect(ok[a], a).toBeGreaterThan(3);
    // The open connection's next call is refused by the per-call check, with the reason from the CRL.
    expect(nfra[0]).toMatchObject({ reason: "CLIENT_CERT_REVOKED", metadata: { revocation_reason: "keyCompromise" } });
    expect(nfra.every((f) => f.reason === "CLIENT_CERT_REVOKED")).toBe(true);
    console.info(`revocation under load: CRL applied ${appliedMs} ms after crl.pem was written, nfra's first refusal after ${nfra[0]!.at - crlWritten} ms; others ${JSON.stringify(ok)} calls, 0 failed`);
    expect(appliedMs).toBeLessThan(1_000);
    // A new connection is refused at the handshake too (Node checks the CRL), still as CLIENT_CERT_REVOKED.
    const fresh = createExchangeClient({ address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: fed.pki.agencies["nfra"]!.client.cert, keyFile: fed.pki.agencies["nfra"]!.client.key, caFile: fed.pki.caBundle });
    try {
      expect((await failureOf(fresh.query(PUBLIC_QUERY))).reason).toBe("CLIENT_CERT_REVOKED");
    } finally {
      fresh.close();
    }
  }, 30_000);
});

describe("revocation over the control topic", () => {
  it("credex pki revoke --publish reaches two running gateways within 1 s of publication; a gateway started later replays it", async () => {
    // Replica 2 does not watch its files, so only the control topic can tell it of the revocation.
    const gw2 = await startReplica("gw-demo-2", { watch: false });
    const safe = fed.pki.agencies["safe"]!.client;
    const onGw2 = createExchangeClient({ address: gw2.address, trustDomain: fed.pki.trustDomain, certFile: safe.cert, keyFile: safe.key, caFile: fed.pki.caBundle });
    try {
      await onGw2.query(PUBLIC_QUERY);
      const r = await credex("pki", "revoke", "--dir", pkiDir, "--serial", safe.serial, "--reason", "affiliationChanged", "--publish", "--brokers", kafkaBrokers(), "--topic", topic);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`published the revocation on kafka ${topic}`);
      const published = Date.now();
      const seen = await Promise.all(
        [fed.gateway, gw2].map((g) => until("the revocation on every gateway", () => (g.revocations.lookup(safe.serial) ? Date.now() - published : undefined), 3_000)),
      );
      console.info(`control topic: revocation applied on gateway 1 after ${seen[0]} ms, gateway 2 after ${seen[1]} ms (from publish acknowledged)`);
      for (const ms of seen) expect(ms).toBeLessThan(1_000);
      expect(gw2.control?.applied()).toBeGreaterThanOrEqual(1);
      const failure = await failureOf(onGw2.query(PUBLIC_QUERY));
      expect(failure).toMatchObject({ reason: "CLIENT_CERT_REVOKED", metadata: { revocation_reason: "affiliationChanged" } });

      // Latency of the topic alone: a pre-connected publisher, from send to applied on both replicas.
      const issuing = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
      const publisher = createKafkaControlChannel({ brokers: kafkaBrokers(), topic });
      try {
        const signed = (serial: string) =>
          signControlItem(revocationItem({ serial, reason: "superseded", revokedAt: new Date() }), new X509Certificate(issuing.certPem), createPrivateKey(issuing.keyPem));
        const warmUp = signed("0E0E"); // connects the producer, so that the timing below is the topic's alone
        await publisher.publish({ key: controlItemKey(warmUp), value: encodeControlItem(warmUp) });
        const probe = signed("0A0B0C0D");
        const sent = Date.now();
        await publisher.publish({ key: controlItemKey(probe), value: encodeControlItem(probe) });
        const latency = await Promise.all([fed.gateway, gw2].map((g) => until("the probe revocation", () => (g.revocations.lookup("0A0B0C0D") ? Date.now() - sent : undefined), 3_000)));
        console.info(`control topic: a revocation sent at t0 is enforced on gateway 1 at t0+${latency[0]} ms, gateway 2 at t0+${latency[1]} ms`);
        for (const ms of latency) expect(ms).toBeLessThan(1_000);
      } finally {
        await publisher.close();
      }

      // Replica 3 starts after the fact without any CRL: it learns the revocation from the compacted topic.
      const gw3 = await startReplica("gw-demo-3", { watch: false, crl: [] });
      expect(gw3.revocations.lookup(safe.serial)?.reason).toBe("affiliationChanged");
    } finally {
      onGw2.close();
    }
  }, 60_000);

  it("fail/a control item signed by a key the gateways do not trust is refused and reported; nothing is revoked", async () => {
    const rogue = await createCa({ commonName: "rogue issuing CA", keyBits: 2048 });
    const target = fed.pki.agencies["pbccrc"]!.client.serial;
    const item = signControlItem(revocationItem({ serial: target, reason: "keyCompromise", revokedAt: new Date() }), new X509Certificate(rogue.certPem), createPrivateKey(rogue.keyPem));
    const before = fed.gateway.control!.rejected();
    const channel = createKafkaControlChannel({ brokers: kafkaBrokers(), topic });
    try {
      await channel.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
    } finally {
      await channel.close();
    }
    await until("the forged item to be refused", () => (fed.gateway.control!.rejected() > before ? true : undefined), 3_000);
    expect(fed.gateway.revocations.lookup(target)).toBeUndefined();
    expect((await fed.client("pbccrc").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
  }, 30_000);
});

