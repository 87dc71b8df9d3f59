import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomBytes, randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { stringify as toYaml } from "yaml";
import { AuditEventType } from "../src/gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { generateUscc } from "../src/core/identifiers/uscc.js";
import { createSeededRandom } from "../src/core/identifiers/random-source.js";
import { verifyWebhookSignature } from "../src/core/incidents/webhook-signature.js";
import { createAdminClient, type AdminClient } from "../src/client/admin-client.js";
import { issueAdminCertificate } from "../src/demo/admin-certificates.js";
import { FOUNDATION_STEPS } from "../src/demo/demo-script.js";
import { readIncidentsTopic } from "../src/adapters/kafka/incident-topic.js";
import { readIncidentsFile } from "../src/adapters/incidents/file-incident-store.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let dir: string;
let receiver: Server;
let receiverUrl: string;
let unreachableUrl: string;
const received: Array<{ headers: IncomingMessage["headers"]; body: string }> = [];
const secret = randomBytes(32);
const topic = `credex.incidents.test-${randomUUID().slice(0, 8)}`;
let security: AdminClient;
let auditor: AdminClient;
let agencyOnAdmin: AdminClient;

const company = { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" };
const publicQuery = (id: string) => ({ subject: { type: SubjectType.LEGAL_PERSON, id }, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "credex-incidents-"));
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  // A port that was just free: connections to it are refused.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  unreachableUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/hook`;
  await new Promise<void>((r) => closed.close(() => r()));

  await writeFile(join(dir, "hook.key"), secret, { mode: 0o600 });
  await writeFile(
    join(dir, "playbooks.yaml"),
    toYaml({
      playbooks: [
        { name: "contain-harvesting", detector: "subject-enumeration", minLevel: "III", actions: [{ type: "suspend-agency" }, { type: "webhook", url: receiverUrl, secretFile: "hook.key" }] },
        { name: "notify-probing", detector: "denial-burst", minLevel: "IV", actions: [{ type: "webhook", url: unreachableUrl, secretFile: "hook.key", maxAttempts: 3, initialBackoffMs: 20, timeoutMs: 1000 }] },
      ],
    }),
  );
  fed = await startTestFederation({
    dir: join(dir, "fed"),
    gatewayConfig: {
      incidents: {
        playbooks: join(dir, "playbooks.yaml"),
        detectors: { subjectEnumeration: { distinctSubjects: 20 }, denialBurst: { threshold: 5 } },
        kafka: { brokers: kafkaBrokers().split(","), topic },
      },
    },
  });
  const officer = fed.manifest.admins!.find((a) => a.role === "security")!;
  const audit = await issueAdminCertificate(fed.pki, "audit", "carol", 2048);
  const client = (cert: string, key: string) => createAdminClient({ address: fed.manifest.admin!, trustDomain: fed.manifest.trustDomain, certFile: cert, keyFile: key, caFile: fed.manifest.ca });
  security = client(officer.cert, officer.key);
  auditor = client(audit.cert, audit.key);
  agencyOnAdmin = client(fed.pki.agencies["pbccrc"]!.client.cert, fed.pki.agencies["pbccrc"]!.client.key);
});

afterAll(async () => {
  for (const c of [security, auditor, agencyOnAdmin]) c?.close();
  await fed?.cleanup();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

describe("detectors on the normal demo traffic", () => {
  it("stay quiet: the scripted foundation exchanges open no incident", async () => {
    for (const step of FOUNDATION_STEPS) for (const row of await step.run(fed)) expect(row.asExpected, row.title).toBe(true);
    await fed.incidents!.settle();
    expect(fed.incidents!.manager.list()).toEqual([]);
  });
});

describe("bulk harvesting", () => {
  it("is detected, the playbook suspends the agency, its next call is refused, a signed webhook is delivered", async () => {
    const harvester = fed.client("sh-credit");
    const random = createSeededRandom(7);
    let answered = 0;
    let refusal: Awaited<ReturnType<typeof failureOf>> | undefined;
    for (let i = 0; i < 40 && !refusal; i++) {
      try {
        await harvester.query(publicQuery(generateUscc(random)));
        answered += 1;
      } catch {
        refusal = await failureOf(harvester.query(publicQuery(company.id)));
      }
    }
    // Detected on the 20th distinct subject, contained before the 21st call.
    expect(answered).toBe(20);
    expect(refusal).toMatchObject({ code: status.PERMISSION_DENIED, reason: "AGENCY_SUSPENDED" });
    await fed.incidents!.settle();

    const [incident] = fed.incidents!.manager.list({ detector: "subject-enumeration" });
    expect(incident).toMatchObject({ key: "sh-credit", agency: "sh-credit", level: "III", category: "information-destruction", state: "contained" });
    expect(incident!.evidence.count).toBe(20);
    expect(incident!.evidence.pseudonyms).toHaveLength(20);
    // Never a subject id in clear: pseudonyms are 64-hex HMACs.
    expect(JSON.stringify(incident)).not.toMatch(/\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b/);
    expect(Date.parse(incident!.reportBy!) - Date.parse(incident!.openedAt)).toBe(3_600_000);

    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    expect(verifyWebhookSignature(secret, String(headers["x-credex-timestamp"]), body, String(headers["x-credex-signature"]))).toBe(true);
    expect(JSON.parse(body)).toMatchObject({ id: incident!.id, state: "contained" });
    expect(incident!.timeline.map((t) => t.kind)).toEqual(["opened", "action", "state", "delivery"]);

    const events = await auditEvents(fed);
    // The evidence's pseudonyms are the audit's: an officer finds the exchanges from them.
    const auditedPseudonyms = new Set(events.map((e) => e.subjectPseudonym));
    expect(incident!.evidence.pseudonyms.filter((p) => !auditedPseudonyms.has(p))).toEqual([]);
    const audited = events.filter((e) => e.type === AuditEventType.ADMIN);
    expect(audited.map((e) => [e.method, e.attributes["target"], e.attributes["incident"], e.attributes["actor"]])).toContainEqual([
      "suspend-agency",
      "sh-credit",
      incident!.id,
      "playbook:contain-harvesting",
    ]);
  });

  it("is in the incidents file and on the Kafka topic", async () => {
    const fromFile = readIncidentsFile(fed.manifest.incidents!).filter((i) => i.detector === "subject-enumeration");
    expect(fromFile.map((i) => i.state)).toEqual(["contained"]);
    const fromKafka = await readIncidentsTopic({ brokers: kafkaBrokers(), topic });
    expect(fromKafka.find((i) => i.detector === "subject-enumeration")).toMatchObject({ id: fromFile[0]!.id, state: "contained", key: "sh-credit" });
  });
});

describe("admin API", () => {
  it("refuses agency certificates and roles without the right (audited)", async () => {
    expect(await failureOf(agencyOnAdmin.call("listIncidents", {}))).toMatchObject({ code: status.PERMISSION_DENIED, reason: "ADMIN_ROLE_REQUIRED" });
    expect(await failureOf(auditor.call("resumeAgency", { agencyId: "sh-credit" }))).toMatchObject({ code: status.PERMISSION_DENIED, reason: "ADMIN_ROLE_REQUIRED", metadata: { role: "audit", required: "security" } });
    expect(await failureOf(security.call("reloadTls", {}))).toMatchObject({ reason: "ADMIN_ROLE_REQUIRED" });
    const listed = await auditor.call("listIncidents", { state: "unresolved" });
    expect(listed.incidents.map((i) => i.detector)).toContain("subject-enumeration");
    const refused = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.ADMIN && e.statusReason === "ADMIN_ROLE_REQUIRED");
    expect(refused.map((e) => [e.method, e.requester!.agencyId])).toEqual(
      expect.arrayContaining([
        ["ResumeAgency", "admin/audit/carol"],
        ["ListIncidents", "unauthenticated"],
      ]),
    );
  });

  it("a security officer resumes the agency and resolves the incident; the agency's call succeeds again", async () => {
    const [incident] = fed.incidents!.manager.list({ detector: "subject-enumeration" });
    await security.call("resumeAgency", { agencyId: "sh-credit" });
    await fed.client("sh-credit").query(publicQuery(company.id));
    const acked = await security.call("acknowledgeIncident", { id: incident!.id, note: "reviewing" });
    expect(acked.incident!.state).toBe("acknowledged");
    const resolved = await security.call("resolveIncident", { id: incident!.id, note: "member re-trained" });
    expect(resolved.incident!.state).toBe("resolved");
    expect(await failureOf(security.call("resolveIncident", { id: incident!.id }))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: "INCIDENT_STATE_INVALID" });
    expect(await failureOf(security.call("getIncident", { id: "inc-nope" }))).toMatchObject({ code: status.NOT_FOUND, reason: "INCIDENT_NOT_FOUND" });
    const admin = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.ADMIN && e.requester!.agencyId === "admin/security/demo-officer");
    expect(admin.map((e) => e.method)).toEqual(expect.arrayContaining(["ResumeAgency", "AcknowledgeIncident", "ResolveIncident"]));
  });

  it("throttles an agency (RESOURCE_EXHAUSTED RATE_LIMITED right after authenticate) and lifts it", async () => {
    await security.call("throttleAgency", { agencyId: "csrc", ratePerSecond: 1, burst: 1 });
    const csrc = fed.client("csrc");
    await csrc.query(publicQuery(company.id));
    expect(await failureOf(csrc.query(publicQuery(company.id)))).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: "RATE_LIMITED" });
    const st = await auditor.call("getStatus", {});
    expect(st.throttledAgencies["csrc"]).toMatchObject({ ratePerSecond: 1, burst: 1 });
    await security.call("throttleAgency", { agencyId: "csrc", ratePerSecond: 0 });
    await csrc.query(publicQuery(company.id));
    await csrc.query(publicQuery(company.id));
  });
});

describe("certificate revocation", () => {
  it("an officer revokes a certificate for open connections; repeated calls with it open a certificate-abuse incident; unrevoking restores it", async () => {
    const serial = fed.pki.agencies["nfra"]!.client.serial;
    const nfra = fed.client("nfra");
    await nfra.query(publicQuery(company.id));
    await security.call("revokeCertificate", { serial, reason: "key compromise drill" });
    for (let i = 0; i < 5; i++) expect(await failureOf(nfra.query(publicQuery(company.id)))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_REVOKED" });
    await fed.incidents!.settle();
    const [incident] = fed.incidents!.manager.list({ detector: "certificate-abuse" });
    expect(incident).toMatchObject({ level: "III", category: "network-attack", state: "open" });
    expect(incident!.key).toMatch(/^cert:[0-9a-f]{64}$/);
    expect(incident!.evidence.count).toBe(5);
    expect(incident!.evidence.attributes["cert_serial"]).toBe(serial.toUpperCase().replace(/^0+/, ""));
    await security.call("unrevokeCertificate", { serial });
    await nfra.query(publicQuery(company.id));
  });
});

describe("webhook delivery failure", () => {
  it("an unreachable receiver is retried with backoff and the failure recorded on the timeline", async () => {
    const csrc = fed.client("csrc");
    for (let i = 0; i < 5; i++) await failureOf(csrc.query({ subject: company, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL }));
    await fed.incidents!.settle();
    const [incident] = fed.incidents!.manager.list({ detector: "denial-burst" });
    expect(incident).toMatchObject({ key: "csrc", state: "open" });
    const deliveries = incident!.timeline.filter((t) => t.kind === "delivery").map((t) => [t.details!["attempt"], t.details!["outcome"]]);
    expect(deliveries).toEqual([
      ["1", "retrying"],
      ["2", "retrying"],
      ["3", "failed"],
    ]);
    expect(incident!.timeline.at(-1)!.details!["error"]).toMatch(/ECONNREFUSED/);
  });
});

describe("credex incidents (CLI)", () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
    const { command } = await import("../src/cli/commands/incidents.js");
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      return { code: await command.run(argv), out: chunks.join("") };
    } finally {
      process.stdout.write = write;
    }
  }

  it("lists and shows from the federation's incidents file, acknowledges over the admin API", async () => {
    await fed.incidents!.settle();
    const list = await cli("list", "--dir", fed.dir);
    expect(list.code).toBe(0);
    expect(list.out.split("\n")[0]).toMatch(/^ID\s+STATE\s+LEVEL\s+CATEGORY\s+DETECTOR\s+KEY\s+EVIDENCE\s+OPENED\s+REPORT BY$/);
    expect(list.out).toMatch(/resolved\s+III\s+information-destruction\s+subject-enumeration\s+sh-credit\s+2\d\s/);
    const [probe] = fed.incidents!.manager.list({ detector: "denial-burst" });
    const ack = await cli("ack", probe!.id, "--dir", fed.dir, "--note", "csrc contacted");
    expect(ack).toEqual({ code: 0, out: `${probe!.id} is now acknowledged\n` });
    await fed.incidents!.settle();
    const show = await cli("show", probe!.id, "--dir", fed.dir);
    expect(show.out).toContain("state acknowledged · level IV · category network-attack · detector denial-burst · key csrc");
    expect(show.out).toContain("admin/security/demo-officer: open → acknowledged: csrc contacted");
    const json = JSON.parse((await cli("list", "--dir", fed.dir, "--state", "acknowledged", "--json")).out) as Array<{ id: string }>;
    expect(json.map((i) => i.id)).toEqual([probe!.id]);
  });
});
