/**
 * Issue 16 item 10, "small ones", each performed end to end against the demo
 * federation over real mTLS on 127.0.0.1 (the Kafka list log's part is in
 * test/lists-kafka.test.ts).
 */
import { statSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { SpecialAccessState } from "../src/gen/credex/v1/special_access_pb.js";
import { SubscribePhase } from "../src/gen/credex/v1/lists_pb.js";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { renewInDirectory, caPaths } from "../src/adapters/pki/ca-directory.js";
import { loadKeyRing } from "../src/core/audit/key-ring.js";
import { subjectPseudonym } from "../src/core/audit/pseudonym.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";
import { credex, PUBLIC_QUERY, servedSerial, until } from "./support/certificate-ops.js";
import { debtorEntry, Watcher } from "./support/lists.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

describe("item 10 (a): the approver of a special application is another agency", () => {
  it("item 10: fail/a second certificate of the requesting agency cannot approve its application → PERMISSION_DENIED SEPARATION_OF_DUTIES, audited", async () => {
    // csrc asks for access to records it owns itself, so its own certificates are "the owner's approver".
    const pending = await fed.client("csrc").requestSpecialAccess({
      subject: DEMO_SUBJECTS.borrower,
      categories: ["securities_holding"],
      purpose: Purpose.GUARANTEE,
      justification: "Guarantee review of the borrower, case 2026-204",
      durationSeconds: 3600,
      ownerAgency: "csrc",
    });
    expect(pending.state).toBe(SpecialAccessState.PENDING);

    // A second, valid certificate of the same agency (same SPIFFE id, USCC and sector), from the dev PKI's CA.
    const { entry } = await renewInDirectory(fed.pki.dir, "csrc");
    const paths = caPaths(fed.pki.dir);
    expect(entry.serial).not.toBe(fed.pki.agencies["csrc"]!.client.serial);
    const second = createExchangeClient({ address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: paths.issuedCert("csrc"), keyFile: paths.issuedKey("csrc"), caFile: fed.pki.caBundle });
    try {
      const attempt = await failureOf(second.decideSpecialAccess({ applicationId: pending.applicationId, approve: true, maxUses: 5, note: "approved by myself" }));
      expect(attempt).toMatchObject({ code: status.PERMISSION_DENIED, reason: "SEPARATION_OF_DUTIES", metadata: { requester: "csrc" } });
    } finally {
      second.close();
    }
    expect(fed.gateway.specialAccess.get(pending.applicationId)?.state).toBe("PENDING");
    const refused = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.SPECIAL_ACCESS && e.method === "DecideSpecialAccess" && e.statusReason === "SEPARATION_OF_DUTIES");
    expect(refused.map((e) => [e.requester?.agencyId, e.decision?.effect])).toEqual([["csrc", DecisionEffect.DENY]]);
  });
});

describe("item 10 (b): JUDICIAL needs the judicial role in the registry", () => {
  const judicialQuery = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["insurance_claim"], purpose: Purpose.JUDICIAL };

  it("item 10: fail/a bank states JUDICIAL (the policy's \"*, JUDICIAL\" rule would allow it) → PERMISSION_DENIED PURPOSE_NOT_PERMITTED (required_role judicial), audited as a denial", async () => {
    const failure = await failureOf(fed.client("pbccrc").query(judicialQuery));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "PURPOSE_NOT_PERMITTED", metadata: { purpose: "JUDICIAL", required_role: "judicial", agency: "pbccrc" } });
    // Nor may it ask for a special grant for that purpose.
    const application = await failureOf(
      fed.client("pbccrc").requestSpecialAccess({ subject: DEMO_SUBJECTS.borrower, categories: ["securities_holding"], purpose: Purpose.JUDICIAL, justification: "court order 2026-77 (claimed)", durationSeconds: 3600, ownerAgency: "csrc" }),
    );
    expect(application).toMatchObject({ code: status.PERMISSION_DENIED, reason: "PURPOSE_NOT_PERMITTED", metadata: { required_role: "judicial" } });
    const denied = (await auditEvents(fed)).filter((e) => e.requester?.agencyId === "pbccrc" && e.purpose === Purpose.JUDICIAL && e.statusReason === "PURPOSE_NOT_PERMITTED");
    expect(denied.map((e) => [e.method, e.decision?.effect])).toEqual([
      ["Query", DecisionEffect.DENY],
      ["RequestSpecialAccess", DecisionEffect.DENY],
    ]);
  });

  it("item 10: ok/the regional platform, which holds the judicial role in the demo registry, is answered for JUDICIAL", async () => {
    const answer = await fed.client("sh-credit").query(judicialQuery);
    const nfra = answer.results.find((r) => r.agencyId === "nfra");
    expect(nfra?.status).toBe(AgencyStatus.OK);
    expect(nfra?.records.length).toBeGreaterThan(0);
  });
});

describe("item 10 (d): the embedded list log holds no subject id and only the gateway reads it", () => {
  it("item 10: fail/whoever reads the list log file finds no subject id (keys are pseudonyms, entries sealed) and it is 0600 in a 0700 directory; subscribers still receive the id", async () => {
    const entry = debtorEntry(7_001);
    const subject = entry.subject!;
    await fed.client("sh-credit").publishListEntries({ entries: [entry] });
    const watcher = new Watcher(fed.client("pbccrc"), ["dishonest_debtors"]);
    await watcher.until(() => watcher.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE));
    watcher.subscription.cancel();
    expect(watcher.snapshot.map((e) => [e.subject?.id, e.legalBasis])).toContainEqual([subject.id, entry.legalBasis]);

    const file = fed.gateway.config.lists.file;
    const raw = readFileSync(file);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.includes(Buffer.from(subject.id!, "utf8"))).toBe(false);
    expect(raw.includes(Buffer.from(entry.legalBasis!, "utf8"))).toBe(false);
    const ring = await loadKeyRing(fed.manifest.keyRing);
    expect(raw.includes(Buffer.from(`dishonest_debtors/${subjectPseudonym(ring.pseudonymKey, subject.type!, subject.id!)}`, "utf8"))).toBe(true);
    expect((statSync(file).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(dirname(file)).mode & 0o777).toString(8)).toBe("700");
  });
});

describe("item 10 (c): renewal keeps the issuing CA key out of the gateway", () => {
  it("item 10: fail/a gateway config that points at the CA directory and its key (tls.renew) is refused at load, naming the operator's step", () => {
    const document = parseYaml(readFileSync(fed.configFile, "utf8")) as { tls: Record<string, unknown> };
    document.tls["renew"] = { caDir: fed.pki.dir };
    const file = join(fed.dir, "gateway-with-ca.yaml");
    writeFileSync(file, toYaml(document));
    expect(() => loadGatewayConfig(file)).toThrow(`${file}: tls.renew: the gateway no longer renews its own certificate and never reads the CA directory or its key`);
    expect(() => loadGatewayConfig(file)).toThrow("credex pki renew gateway --install-cert <tls.cert> --install-key <tls.key>");
  });

  it("item 10: ok/renewal is the operator's step on the CA side (credex pki renew gateway --install-*): the running gateway serves the new certificate and its expiry watch follows it", async () => {
    const client = fed.pki.agencies["pbccrc"]!.client;
    const before = await servedSerial(fed.gateway.address, fed.pki.caBundle, client);
    const renewed = await credex("pki", "renew", "gateway", "--dir", fed.pki.dir, "--install-cert", fed.pki.gateway.cert, "--install-key", fed.pki.gateway.key);
    expect(renewed.code, renewed.stderr).toBe(0);
    const serial = /serial ([0-9a-f]+)/.exec(renewed.stdout)![1]!.toUpperCase().replace(/^0+(?=.)/, "");
    expect(serial).not.toBe(before);
    expect((statSync(fed.pki.gateway.key).mode & 0o777).toString(8)).toBe("600");
    await until("the renewed certificate to be served", async () => ((await servedSerial(fed.gateway.address, fed.pki.caBundle, client)) === serial ? true : undefined));
    const watched = fed.gateway.certificateExpiry().find((e) => e.subject === "gateway");
    expect(watched?.serial.toUpperCase().replace(/^0+(?=.)/, "")).toBe(serial);
    expect((await fed.client("pbccrc").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
    // Both or neither: a half install would leave a key without its certificate.
    const half = await credex("pki", "renew", "gateway", "--dir", fed.pki.dir, "--install-cert", fed.pki.gateway.cert);
    expect(half).toMatchObject({ code: 2 });
    expect(half.stderr).toContain("give both --install-cert and --install-key, or neither");
  });
});
