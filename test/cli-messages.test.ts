import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credex } from "./support/cli.js";
import { startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";

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
});
