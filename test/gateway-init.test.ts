import { createServer } from "node:net";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { startReferenceAgency, type RunningAgency } from "../src/agency/reference-agency.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { demoDatasets, DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { credex } from "./support/cli.js";
import { spawnGateway, type GatewayProcess } from "./support/gateway-process.js";

// From nothing to a running gateway, as the operator's guide (docs/operator-guide.md) walks it:
// `credex init`, a provider, `credex gateway start`, one exchange over mTLS.

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("credex init lays out a gateway directory that starts as it is", () => {
  it("init → provider → gateway start (production mode) → an exchange over mTLS, audited in the directory's log", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "credex-init-")), "gw");
    cleanups.push(() => rm(join(dir, ".."), { recursive: true, force: true }));
    const [gatewayPort, csrcPort] = [await freePort(), await freePort()];
    const init = await credex(
      "init", "--dir", dir, "--listen", `127.0.0.1:${gatewayPort}`,
      "--agency", "pbccrc,BANKING,121000007178005741,127.0.0.1:1",
      "--agency", `csrc,SECURITIES,11100000000019713D,127.0.0.1:${csrcPort}`,
    );
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`credex gateway start --config ${join(dir, "gateway.yaml")}`);
    expect((await stat(join(dir, "audit", "key-ring.json"))).mode & 0o077).toBe(0);
    expect((await stat(join(dir, "pki", "issued", "csrc-provider.key"))).mode & 0o077).toBe(0);
    const config = parseYaml(await readFile(join(dir, "gateway.yaml"), "utf8")) as { mode: string; agencies: Array<{ id: string; categories: string[] }> };
    expect(config.mode).toBe("production");
    expect(config.agencies.find((a) => a.id === "csrc")!.categories).toContain("administrative_penalty");

    const issued = (name: string) => join(dir, "pki", "issued", name);
    const provider: RunningAgency = await startReferenceAgency({
      agencyId: "csrc",
      trustDomain: "credex.example",
      listen: `127.0.0.1:${csrcPort}`,
      tls: { cert: issued("csrc-provider.crt"), key: issued("csrc-provider.key"), ca: join(dir, "pki", "ca-bundle.pem"), crl: [join(dir, "pki", "root-crl.pem"), join(dir, "pki", "crl.pem")] },
      records: demoDatasets()["csrc"] ?? [],
      ceiling: { categories: { administrative_penalty: 1 } },
    });
    cleanups.push(() => provider.stop());
    const gateway: GatewayProcess = await spawnGateway(join(dir, "gateway.yaml"));
    cleanups.push(async () => {
      gateway.child.kill("SIGTERM");
      await gateway.exited;
    });
    expect(gateway.address).toBe(`127.0.0.1:${gatewayPort}`);

    const client = createExchangeClient({
      address: gateway.address,
      trustDomain: "credex.example",
      certFile: issued("pbccrc.crt"),
      keyFile: issued("pbccrc.key"),
      caFile: join(dir, "pki", "ca-bundle.pem"),
      crlFiles: [join(dir, "pki", "root-crl.pem"), join(dir, "pki", "crl.pem")],
    });
    cleanups.push(async () => client.close());
    const answer = await client.query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL, requestId: "init-1" });
    const csrc = answer.results.find((r) => r.agencyId === "csrc");
    expect(csrc?.status).toBe(AgencyStatus.OK);
    expect(csrc?.records.map((r) => r.recordId)).toContain("csrc-P-0002");
    expect((await stat(join(dir, "audit", "audit.log"))).size).toBeGreaterThan(0);

    // The same exchange with the CLI, as an agency integrator tries it first.
    const cli = await credex(
      "query", "--gateway", gateway.address, "--as", "pbccrc", "--cert", issued("pbccrc.crt"), "--key", issued("pbccrc.key"),
      "--ca", join(dir, "pki", "ca-bundle.pem"), "--crl", join(dir, "pki", "root-crl.pem"), "--crl", join(dir, "pki", "crl.pem"),
      "--subject", DEMO_SUBJECTS.tradingCompany.id, "--categories", "administrative_penalty", "--purpose", "LOAN_APPROVAL", "--json",
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(cli.stdout))).toContain("csrc-P-0002");
  });

  it("refuses a directory that is not empty, and names what is wrong in an --agency", async () => {
    const dir = await mkdtemp(join(tmpdir(), "credex-init-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "something"), "x");
    const notEmpty = await credex("init", "--dir", dir);
    expect(notEmpty.code).toBe(2);
    expect(notEmpty.stderr).toContain(`--dir ${dir} is not empty`);
    const badUscc = await credex("init", "--dir", join(dir, "new"), "--agency", "bank,BANKING,121000007178005740,127.0.0.1:7601");
    expect(badUscc.code).toBe(2);
    expect(badUscc.stderr).toMatch(/--agency bank,BANKING,121000007178005740,127\.0\.0\.1:7601: "121000007178005740" is not a valid USCC/);
    const badSector = await credex("init", "--dir", join(dir, "new"), "--agency", "bank,BANK,121000007178005741,127.0.0.1:7601");
    expect(badSector.stderr).toContain('sector "BANK" is not one of');
  });
});
