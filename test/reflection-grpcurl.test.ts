import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTestFederation } from "./support/federation.js";

const run = promisify(execFile);

/**
 * A gRPC client written elsewhere (grpcurl, Go) lists the services by
 * reflection and calls Query with an agency certificate of the demo
 * federation: the protocol is usable without credex's own code.
 */
function findGrpcurl(): string {
  const candidates = [process.env["GRPCURL"], join(homedir(), "go", "bin", "grpcurl"), "/usr/local/bin/grpcurl", "/usr/bin/grpcurl"].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error("grpcurl is needed by this test: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3 (.ci/run does), or set GRPCURL=<path>");
  }
  return found;
}

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let grpcurl: string;
let tlsArgs: string[];

beforeAll(async () => {
  grpcurl = findGrpcurl();
  fed = await startTestFederation();
  const pbccrc = fed.manifest.agencies.find((a) => a.id === "pbccrc")!;
  tlsArgs = ["-cacert", fed.manifest.ca, "-cert", pbccrc.cert, "-key", pbccrc.key, "-servername", "localhost"];
});
afterAll(async () => {
  await fed?.cleanup();
});

async function grpcurlRun(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(grpcurl, [...tlsArgs, ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("reflection, from a client written elsewhere", () => {
  it("lists the services", async () => {
    const out = await grpcurlRun([fed.gateway.address, "list"]);
    expect(out.code).toBe(0);
    expect(out.stdout.split("\n")).toContain("credex.v1.CreditExchange");
  });

  it("gets an answer from Query", async () => {
    const body = JSON.stringify({ subject: { type: "SUBJECT_TYPE_LEGAL_PERSON", id: "91310110666007217T" }, categories: ["administrative_penalty"], purpose: "PURPOSE_SUPERVISION" });
    const out = await grpcurlRun(["-d", body, fed.gateway.address, "credex.v1.CreditExchange/Query"]);
    expect(out.code).toBe(0);
    const response = JSON.parse(out.stdout) as { exchangeId: string; results: Array<{ agencyId: string; status: string }> };
    expect(response.exchangeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.results.map((r) => r.status)).toContain("AGENCY_STATUS_OK");
  });

  it("gets a clear error, with its ErrorInfo decoded", async () => {
    const body = JSON.stringify({ subject: { type: "SUBJECT_TYPE_LEGAL_PERSON", id: "91310110666007217A" }, categories: ["administrative_penalty"], purpose: "PURPOSE_SUPERVISION" });
    const out = await grpcurlRun(["-d", body, fed.gateway.address, "credex.v1.CreditExchange/Query"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("InvalidArgument");
    expect(out.stderr).toContain('"reason": "USCC_INVALID"');
    expect(out.stderr).toContain('"domain": "credex"');
  });
});
