/**
 * Issue 17, item 6: level protection (等级保护, GB/T 22239-2019) is enforced, not declared.
 * End to end over mTLS on 127.0.0.1: the gateway refuses a category to an agency whose
 * declared protection level is below what the category's level requires, and the admin
 * API needs a TOTP second factor (RFC 6238) from enrolled administrator certificates.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { Purpose, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { createAdminClient, type AdminClient, type AdminClientOptions } from "../src/client/admin-client.js";
import { issueAdminCertificate } from "../src/demo/admin-certificates.js";
import { totpCode } from "../src/adapters/totp/totp.js";
import { auditEventOf, failureOf, startTestFederation } from "./support/federation.js";
import { credex } from "./support/cli.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
const clients: AdminClient[] = [];
const company = { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" };

beforeAll(async () => {
  // nfra declares protection level 2; the policy grants it bank credit data (level 3) for GUARANTEE.
  fed = await startTestFederation({ protectionLevels: { nfra: 2 }, adminTotp: true });
});

afterAll(async () => {
  clients.forEach((c) => c.close());
  await fed?.cleanup();
});

const officer = () => fed.manifest.admins!.find((a) => a.role === "security")!;
function adminClient(extra: Partial<AdminClientOptions> = {}, cert = officer()): AdminClient {
  const c = createAdminClient({ address: fed.manifest.admin!, trustDomain: fed.manifest.trustDomain, certFile: cert.cert, keyFile: cert.key, caFile: fed.manifest.ca, ...extra });
  clients.push(c);
  return c;
}

describe("GB/T 22239-2019: the declared protection level is enforced at run time", () => {
  it("fail/an agency declared at protection level 2 is refused level-3 bank credit data the policy grants it (PROTECTION_LEVEL_INSUFFICIENT)", async () => {
    const nfra = fed.client("nfra");
    const f = await failureOf(nfra.query({ subject: company, categories: ["loan_overdue", "guarantee_record"], purpose: Purpose.GUARANTEE }));
    expect(f.code).toBe(status.PERMISSION_DENIED);
    expect(f.reason).toBe("PROTECTION_LEVEL_INSUFFICIENT");
    expect(f.metadata).toMatchObject({ owner: "pbccrc", declared_protection_level: "2", required_protection_level: "3" });
    // No exchange without its audit record: the refusal is audited as a policy denial.
    const event = await auditEventOf(fed, (e) => e.statusReason === "PROTECTION_LEVEL_INSUFFICIENT");
    expect(event.requester?.agencyId).toBe("nfra");
    expect(event.decision?.effect).toBe(DecisionEffect.DENY);
  });

  it("ok/public data still reaches it, and an agency at protection level 3 gets the same bank credit data", async () => {
    const publicReply = await fed.client("nfra").query({ subject: company, categories: ["administrative_penalty"], purpose: Purpose.GUARANTEE });
    expect(publicReply.results.length).toBeGreaterThan(0);
    const csrcReply = await fed.client("csrc").query({ subject: company, categories: ["loan_overdue"], purpose: Purpose.SUPERVISION });
    expect(csrcReply.results.map((r) => r.agencyId)).toContain("pbccrc");
  });
});

describe("GB/T 22239-2019 8.1.4.1 d: administrators authenticate with two factors (certificate + TOTP, RFC 6238)", () => {
  const secret = () => readFileSync(officer().totpSecret!, "utf8").trim();

  it("fail/GB/T 22239-2019 8.1.4.1 d: an admin call without a TOTP code is refused", async () => {
    const f = await failureOf(adminClient().call("getStatus", {}));
    expect([f.code, f.reason]).toEqual([status.UNAUTHENTICATED, "ADMIN_TOTP_REQUIRED"]);
  });

  it("fail/GB/T 22239-2019 8.1.4.1 d: an admin call with a wrong TOTP code is refused", async () => {
    const now = Date.now();
    const valid = new Set([-30_000, 0, 30_000, 60_000].map((d) => totpCode(secret(), new Date(now + d))));
    let n = 0;
    while (valid.has(String(n).padStart(6, "0"))) n++;
    const f = await failureOf(adminClient({ totpCode: String(n).padStart(6, "0") }).call("getStatus", {}));
    expect([f.code, f.reason]).toEqual([status.UNAUTHENTICATED, "ADMIN_TOTP_INVALID"]);
  });

  it("ok/GB/T 22239-2019 8.1.4.1 d: the good code is accepted; fail/RFC 6238 §5.2: the same code replayed on another connection is refused", async () => {
    const code = totpCode(secret(), new Date());
    const legitimate = adminClient({ totpCode: code });
    expect((await legitimate.call("getStatus", {})).restrictedMode).toBe(false);
    // Further calls of the same login (same TLS connection) go on.
    await legitimate.call("listIncidents", {});
    // Someone who saw the code replays it from another connection, with the same certificate.
    const f = await failureOf(adminClient({ totpCode: code }).call("getStatus", {}));
    expect([f.code, f.reason]).toEqual([status.UNAUTHENTICATED, "ADMIN_TOTP_REPLAYED"]);
  });

  it("ok/credex admin totp enroll prints the otpauth URI once; the enrolment takes effect without a restart", async () => {
    const bob = await issueAdminCertificate(fed.pki, "audit", "bob", 2048);
    // Not enrolled (development mode): certificate alone.
    expect((await adminClient({}, bob).call("getStatus", {})).restrictedMode).toBe(false);
    const out = await credex("admin", "totp", "enroll", "--config", fed.configFile, "--cert", bob.cert);
    expect(out.code, out.stderr).toBe(0);
    const uri = /otpauth:\/\/totp\/\S+/.exec(out.stdout)?.[0] ?? "";
    expect(uri).toContain("algorithm=SHA1&digits=6&period=30");
    const enrolledSecret = new URL(uri).searchParams.get("secret")!;
    const f = await failureOf(adminClient({}, bob).call("getStatus", {}));
    expect([f.code, f.reason]).toEqual([status.UNAUTHENTICATED, "ADMIN_TOTP_REQUIRED"]);
    expect((await adminClient({ totpCode: totpCode(enrolledSecret, new Date()) }, bob).call("getStatus", {})).restrictedMode).toBe(false);
  });

  it("fail/an agency certificate gets nowhere on the admin API, code or not", async () => {
    const agency = fed.pki.agencies["pbccrc"]!.client;
    const f = await failureOf(adminClient({ totpCode: "123456" }, { role: "security", name: "x", cert: agency.cert, key: agency.key }).call("getStatus", {}));
    expect(f.reason).toBe("ADMIN_ROLE_REQUIRED");
  });
});
