import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { credex } from "./support/cli.js";
import { startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { postureOfFederationDir } from "../src/cli/commands/posture.js";

// What a newcomer sees when a command is given the wrong thing: a message that names it, and
// output a script can parse even when there is nothing to show.
let fed: Awaited<ReturnType<typeof startTestFederation>>;
beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

describe("CLI messages name what is wrong", () => {
  it("--cert given a file that is not PEM names the option and the file (exit 2), for audit verify and admin totp enroll", async () => {
    const notPem = join(fed.dir, "not-a-certificate.txt");
    await writeFile(notPem, "hello\n");
    const verify = await credex("audit", "verify", "--file", join(fed.dir, "audit", "audit.log"), "--cert", notPem);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain(`--cert ${notPem} holds no PEM certificate`);
    const ca = await credex("audit", "verify", "--file", join(fed.dir, "audit", "audit.log"), "--ca", notPem);
    expect(ca.stderr).toContain(`--ca ${notPem} holds no PEM certificate`);
    const enrol = await credex("admin", "totp", "enroll", "--enrolments", join(fed.dir, "totp.json"), "--trust-domain", "credex.example", "--cert", notPem);
    expect(enrol.code).toBe(2);
    expect(enrol.stderr).toContain(`--cert ${notPem} holds no PEM certificate`);
    const missing = await credex("audit", "verify", "--file", join(fed.dir, "audit", "audit.log"), "--cert", join(fed.dir, "absent.pem"));
    expect(missing.stderr).toContain(`cannot read --cert ${join(fed.dir, "absent.pem")}: ENOENT`);
  });

  it("incidents list --kafka on a topic that does not exist names the topic, not the broker's partition error", async () => {
    const topic = `credex.test.absent-incidents.${Date.now()}`;
    const r = await credex("incidents", "list", "--kafka", kafkaBrokers(), "--topic", topic);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`topic ${topic} does not exist at ${kafkaBrokers()}`);
    expect(r.stderr).not.toContain("does not host this topic-partition");
  });

  it("lists show --json prints [] for lists with no entries, so a script can always parse it", async () => {
    const r = await credex("lists", "show", "--dir", fed.dir, "--as", "csrc", "--list", "red_list_taxpayers", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it("audit verify --file records its result in last-verify.json beside the log, which the posture check then reports", async () => {
    const log = fed.manifest.auditLog;
    await fed.client("pbccrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL, requestId: "verify-record-1" });
    const r = await credex("audit", "verify", "--file", log, "--cert", fed.pki.gateway.cert, "--allow-unsigned-tail");
    const resultFile = join(fed.dir, "audit", "last-verify.json");
    expect(r.stderr).toContain(`result recorded in ${resultFile}`);
    const recorded = JSON.parse(await readFile(resultFile, "utf8")) as { ok: boolean; source: string; records: number };
    expect(recorded).toMatchObject({ ok: r.code === 0, source: log });
    expect(recorded.records).toBeGreaterThan(0);
    const posture = await postureOfFederationDir(fed.dir, 3);
    expect(posture.controls.find((c) => c.id === "audit-chain-verified")!.evidence).toContain(resultFile);
  });

  it("a demo agency stopped by the script comes back at its registered address (what demo --keep does before handing over)", async () => {
    const ask = () => fed.client("pbccrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["forex_violation"], purpose: Purpose.LOAN_APPROVAL, requestId: `restart-${Date.now()}` });
    await fed.stopAgency("safe");
    expect(fed.stoppedAgencies()).toEqual(["safe"]);
    expect((await ask()).results.find((r) => r.agencyId === "safe")?.status).not.toBe(AgencyStatus.OK);
    await fed.restartAgency("safe");
    expect(fed.stoppedAgencies()).toEqual([]);
    // The gateway's channel to it reconnects with gRPC's backoff (and its circuit may be open): poll, bounded.
    await vi.waitFor(async () => expect((await ask()).results.find((r) => r.agencyId === "safe")?.status).toBe(AgencyStatus.OK), { timeout: 30_000, interval: 500 });
  });
});
