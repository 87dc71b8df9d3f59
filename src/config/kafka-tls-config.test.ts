import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createCa, encryptPrivateKeyPem, issueCertificate } from "../adapters/pki/certificate-authority.js";
import { kafkaTlsFromFlags } from "../cli/kafka-tls-flags.js";
import { UsageError } from "../cli/command.js";
import { main } from "../cli/main.js";
import { ConfigError } from "./config-reader.js";
import { parseGatewayConfig } from "./gateway-config.js";
import { packageRoot } from "./package-root.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests reach into an untyped YAML document on purpose
type Doc = any;
const example = join(packageRoot(), "deploy", "gateway.example.yaml");
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "credex-kafka-tls-config-"));
  const ca = await createCa({ commonName: "test Kafka cluster CA", keyBits: 2048 });
  const issued = await issueCertificate({ kind: "gateway", name: "gateway", issuer: ca, trustDomain: "credex.test", keyBits: 2048 });
  const other = await issueCertificate({ kind: "gateway", name: "other", issuer: ca, trustDomain: "credex.test", keyBits: 2048 });
  writeFileSync(join(dir, "ca.crt"), ca.certPem);
  writeFileSync(join(dir, "user.crt"), issued.chainPem);
  writeFileSync(join(dir, "user.key"), issued.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, "other.key"), other.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, "encrypted.key"), encryptPrivateKeyPem(issued.keyPem, "secret"), { mode: 0o600 });
  writeFileSync(join(dir, "empty.pem"), "not a PEM file\n");
}, 60_000);

/** The shipped example with `kafka` set, parsed as if it were <dir>/gw.yaml (relative paths from there). */
function parseWithKafka(kafka: unknown) {
  const doc = parse(readFileSync(example, "utf8")) as Doc;
  doc.kafka = kafka;
  return parseGatewayConfig(join(dir, "gw.yaml"), doc);
}

function problem(kafka: unknown): string {
  try {
    parseWithKafka(kafka);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.replaceAll(`${dir}/`, "<dir>/");
  }
  return "valid";
}

describe("gateway config kafka.tls (one client certificate for every Kafka connection)", () => {
  it("ok/paths are taken from the config file's folder and the files are checked at load", () => {
    const config = parseWithKafka({ tls: { ca: "ca.crt", cert: "user.crt", key: "user.key" } });
    expect(config.kafka?.tls).toEqual({ ca: join(dir, "ca.crt"), cert: join(dir, "user.crt"), key: join(dir, "user.key") });
    expect(parseWithKafka({}).kafka).toEqual({});
  });

  it.each([
    ["fail/unreadable file names the key and the path", { ca: "ca.crt", cert: "missing.crt", key: "user.key" }, "gw.yaml: kafka.tls.cert: cannot read <dir>/missing.crt: ENOENT"],
    ["fail/no PEM certificate in the CA bundle", { ca: "empty.pem", cert: "user.crt", key: "user.key" }, "gw.yaml: kafka.tls.ca: <dir>/empty.pem holds no PEM certificate"],
    ["fail/a certificate where the key should be", { ca: "ca.crt", cert: "user.crt", key: "user.crt" }, "gw.yaml: kafka.tls.key: <dir>/user.crt holds no PEM private key"],
    ["fail/the key of another certificate", { ca: "ca.crt", cert: "user.crt", key: "other.key" }, "gw.yaml: kafka.tls.key: <dir>/other.key is not the key of the certificate in <dir>/user.crt"],
    ["fail/an encrypted key", { ca: "ca.crt", cert: "user.crt", key: "encrypted.key" }, "gw.yaml: kafka.tls.key: <dir>/encrypted.key is encrypted"],
    ["fail/a missing file key", { ca: "ca.crt", cert: "user.crt" }, "gw.yaml: kafka.tls.key: must be a non-empty string"],
    ["fail/an unknown key (no way to turn verification off)", { ca: "ca.crt", cert: "user.crt", key: "user.key", rejectUnauthorized: false }, "gw.yaml: kafka.tls.rejectUnauthorized: unknown key (expected one of: ca, cert, key)"],
  ])("%s", (_name, tls, message) => {
    expect(problem({ tls })).toContain(message);
  });

  it("fail/an unknown key beside tls", () => {
    expect(problem({ brokers: ["k:9093"] })).toBe("<dir>/gw.yaml: kafka.brokers: unknown key (expected one of: tls)");
  });
});

describe("CLI --kafka-ca/--kafka-cert/--kafka-key", () => {
  const at = (f: string) => join(dir, f);
  it("ok/none: plaintext; all three: the checked files", () => {
    expect(kafkaTlsFromFlags({})).toBeUndefined();
    expect(kafkaTlsFromFlags({ "kafka-ca": at("ca.crt"), "kafka-cert": at("user.crt"), "kafka-key": at("user.key") })).toEqual({ ca: at("ca.crt"), cert: at("user.crt"), key: at("user.key") });
  });

  it("fail/one or two of them is a usage error", () => {
    expect(() => kafkaTlsFromFlags({ "kafka-ca": at("ca.crt") })).toThrow(new UsageError("--kafka-ca, --kafka-cert and --kafka-key go together: give all three"));
  });

  it("fail/a bad file names its flag", () => {
    expect(() => kafkaTlsFromFlags({ "kafka-ca": at("ca.crt"), "kafka-cert": at("user.crt"), "kafka-key": at("other.key") })).toThrow(
      new UsageError(`--kafka-key: ${at("other.key")} is not the key of the certificate in ${at("user.crt")}`),
    );
  });
});

describe("credex commands with --kafka-*", () => {
  const at = (f: string) => join(dir, f);
  it.each([
    ["fail/audit verify: --kafka-* with --file", ["audit", "verify", "--file", "x.log", "--kafka-ca", "ca.crt", "--kafka-cert", "user.crt", "--kafka-key", "user.key"], "go with --brokers, not --file"],
    ["fail/audit verify: only --kafka-ca", ["audit", "verify", "--brokers", "127.0.0.1:1", "--kafka-ca", "ca.crt"], "go together: give all three"],
    ["fail/incidents list: --kafka-* without --kafka", ["incidents", "list", "--file", "x.jsonl", "--kafka-ca", "ca.crt", "--kafka-cert", "user.crt", "--kafka-key", "user.key"], "go with --kafka"],
    ["fail/pki revoke: --kafka-* without --publish", ["pki", "revoke", "--dir", "ca", "--serial", "01", "--reason", "keyCompromise", "--kafka-ca", "ca.crt", "--kafka-cert", "user.crt", "--kafka-key", "user.key"], "go with --publish"],
  ])("%s → exit 2 naming the flags", async (_name, argv, message) => {
    const files = new Set(["ca.crt", "user.crt", "user.key"]);
    let stderr = "";
    const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    try {
      expect(await main(argv.map((a) => (files.has(a) ? at(a) : a)))).toBe(2);
    } finally {
      e.mockRestore();
    }
    expect(stderr).toContain(message);
  });
});
