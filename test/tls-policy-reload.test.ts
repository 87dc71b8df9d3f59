/**
 * Issue 16, item 1: the TLS policy survives every reload. A hot reload used
 * to build the new secure context from the certificate, key, CA bundle and
 * CRL alone, so Node filled in its defaults and TLS 1.2 with CBC and
 * static-RSA suites negotiated afterwards on every listener. Here each kind
 * of reload is performed for real (files rewritten on disk, the CLI, the
 * admin RPC, the operator's renewal, SIGHUP to a gateway process), and
 * raw TLS handshakes with old protocols and weak suites are tried against the
 * public (CreditExchange), admin and reference-agency listeners before and
 * after each one.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ConnectionOptions } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { issueCertificate, loadCa } from "../src/adapters/pki/certificate-authority.js";
import { createAdminClient } from "../src/client/admin-client.js";
import { packageRoot } from "../src/config/package-root.js";
import { startTestFederation } from "./support/federation.js";
import { credex, replaceFile, servedSerial, until } from "./support/certificate-ops.js";
import { spawnGateway, type GatewayProcess } from "./support/gateway-process.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
type MinVersion = "TLSv1.2" | "TLSv1.3";

interface Probe {
  readonly name: string;
  readonly options: ConnectionOptions;
}

// SECLEVEL=0 lets this client's OpenSSL offer old protocols and weak suites at all; the server must refuse them.
const weak = (name: string, version: "TLSv1" | "TLSv1.1" | "TLSv1.2", ciphers = "DEFAULT"): Probe => ({
  name,
  options: { minVersion: version, maxVersion: version, ciphers: `${ciphers}@SECLEVEL=0` },
});
/** Refused by every listener under every policy: old protocols, CBC suites, static-RSA key exchange (RFC 9325 §4.1, §4.2). */
const ALWAYS_REFUSED: readonly Probe[] = [
  weak("TLS 1.0", "TLSv1"),
  weak("TLS 1.1", "TLSv1.1"),
  weak("TLS 1.2 ECDHE-RSA-AES128-SHA (CBC)", "TLSv1.2", "ECDHE-RSA-AES128-SHA"),
  weak("TLS 1.2 ECDHE-RSA-AES256-SHA384 (CBC)", "TLSv1.2", "ECDHE-RSA-AES256-SHA384"),
  weak("TLS 1.2 AES128-SHA256 (static RSA, CBC)", "TLSv1.2", "AES128-SHA256"),
  weak("TLS 1.2 AES128-SHA (static RSA, CBC)", "TLSv1.2", "AES128-SHA"),
  weak("TLS 1.2 AES128-GCM-SHA256 (static RSA)", "TLSv1.2", "AES128-GCM-SHA256"),
  weak("TLS 1.2 AES256-GCM-SHA384 (static RSA)", "TLSv1.2", "AES256-GCM-SHA384"),
];
/** A forward-secret AEAD suite of the configured list: allowed only where TLS 1.2 is configured. */
const TLS12_AEAD: Probe = { name: "TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256", options: { minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-AES128-GCM-SHA256" } };
const TLS13: Probe = { name: "TLS 1.3", options: { minVersion: "TLSv1.3" } };

/** A raw TLS handshake: "TLSv1.2 <suite>" when it completes, "refused <code>" when the server refuses it. */
function handshake(address: string, ca: Buffer, client: { cert: Buffer; key: Buffer }, options: ConnectionOptions): Promise<string> {
  const i = address.lastIndexOf(":");
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), servername: "localhost", ca, ...client, ALPNProtocols: ["h2"], ...options });
    socket.setTimeout(5_000, () => (socket.destroy(), resolve("no answer within 5 s")));
    socket.once("secureConnect", () => {
      resolve(`${socket.getProtocol()} ${socket.getCipher().name}`);
      socket.destroy();
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(`refused ${err.code}`));
  });
}

/**
 * Every way the listeners depart from their policy, as sentences; empty when
 * each weak probe was refused with a TLS alert and each allowed one connected.
 */
async function policyViolations(fed: TestFederation, listeners: Record<string, { address: string; minVersion: MinVersion }>): Promise<string[]> {
  const ca = readFileSync(fed.pki.caBundle);
  const member = fed.pki.agencies["pbccrc"]!;
  const client = { cert: readFileSync(member.client.cert), key: readFileSync(member.client.key) };
  const violations: string[] = [];
  for (const [listener, { address, minVersion }] of Object.entries(listeners)) {
    const refused = minVersion === "TLSv1.3" ? [...ALWAYS_REFUSED, TLS12_AEAD] : ALWAYS_REFUSED;
    const allowed = minVersion === "TLSv1.3" ? [TLS13] : [TLS13, TLS12_AEAD];
    for (const probe of refused) {
      const outcome = await handshake(address, ca, client, probe.options);
      if (!/^refused ERR_SSL_/.test(outcome)) violations.push(`${listener}: ${probe.name} → ${outcome}`);
    }
    for (const probe of allowed) {
      const outcome = await handshake(address, ca, client, probe.options);
      if (outcome.startsWith("refused") || outcome.startsWith("no answer")) violations.push(`${listener}: ${probe.name} (allowed) → ${outcome}`);
    }
  }
  return violations;
}

const run = promisify(execFile);
const normalized = (serial: string) => serial.toUpperCase().replace(/^0+(?=.)/, "");

beforeAll(async () => {
  // The SIGHUP cases run `credex gateway start` as a process: it runs dist/ (test/support/gateway-process.ts).
  await run("npm", ["run", "-s", "build"], { cwd: packageRoot() });
}, 240_000);

describe.each([
  ["TLS 1.3 only (the default)", "TLSv1.3"],
  ["TLS 1.2 allowed (tls.minVersion: TLSv1.2)", "TLSv1.2"],
] as const)("item 1: TLS policy survives every reload, %s", (_label, minVersion) => {
  let fed: TestFederation;
  let listeners: () => Record<string, { address: string; minVersion: MinVersion }>;
  const processes: GatewayProcess[] = [];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), `credex-tls-reload-${minVersion}-`));
    const pki = join(dir, "pki");
    fed = await startTestFederation({
      dir,
      gatewayConfig: {
        tls: {
          cert: join(pki, "gateway.crt"),
          key: join(pki, "gateway.key"),
          ca: join(pki, "ca-bundle.pem"),
          crl: [join(pki, "root-crl.pem"), join(pki, "crl.pem")],
          ...(minVersion === "TLSv1.2" ? { minVersion } : {}),
        },
      },
    });
    // The reference agency's policy is TLS 1.3 only, whatever the gateway's.
    listeners = () => ({
      public: { address: fed.gateway.address, minVersion },
      admin: { address: fed.admin!.address, minVersion },
      "agency safe": { address: fed.agencies.get("safe")!.address, minVersion: "TLSv1.3" },
    });
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await fed?.cleanup();
  });

  /** Resolves once the gateway's listeners serve material other than `before` (the reload was applied). */
  const applied = (before: object) => until("the reload to be applied", () => (fed.gateway.tlsCredentials.current() !== before ? true : undefined), 5_000);

  const reloads: Array<[string, () => Promise<void>]> = [
    [
      "a CRL file change (credex pki crl signs the next crl.pem) and a new agency certificate on disk",
      async () => {
        const before = fed.gateway.tlsCredentials.current();
        // The CA directory signs the next CRL: its cRLNumber follows the one in use (RFC 5280 §5.2.3).
        const signed = await credex("pki", "crl", "--dir", fed.pki.dir);
        expect(signed.code, signed.stderr).toBe(0);
        // The agency's listener reloads on a file change of its own.
        const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
        const issued = await issueCertificate({ issuer, trustDomain: fed.pki.trustDomain, kind: "provider", name: "safe", keyBits: 2048, days: 30 });
        const server = fed.pki.agencies["safe"]!.server;
        replaceFile(server.key, issued.keyPem);
        replaceFile(server.cert, issued.chainPem);
        await applied(before);
        const agency = fed.agencies.get("safe")!.address;
        await until("the agency to serve its new certificate", async () => ((await servedSerial(agency, fed.pki.caBundle, fed.pki.gateway)) === normalized(issued.serial) ? true : undefined));
      },
    ],
    [
      "credex pki revoke (crl.pem rewritten in place with a new entry)",
      async () => {
        const before = fed.gateway.tlsCredentials.current();
        const serial = fed.pki.agencies["nfra"]!.client.serial;
        const r = await credex("pki", "revoke", "--dir", fed.pki.dir, "--serial", serial, "--reason", "keyCompromise");
        expect(r.code, r.stderr).toBe(0);
        await until("the revocation to be loaded", () => (fed.gateway.revocations.lookup(serial) ? true : undefined), 5_000);
        await applied(before);
      },
    ],
    [
      "reloadTls() on the gateway and on the agency",
      async () => {
        const before = fed.gateway.tlsCredentials.current();
        expect(fed.gateway.reloadTls().ok).toBe(true);
        expect(fed.agencies.get("safe")!.reloadTls().ok).toBe(true);
        await applied(before);
      },
    ],
    [
      "the admin ReloadTls RPC",
      async () => {
        const before = fed.gateway.tlsCredentials.current();
        const operator = fed.manifest.admins!.find((a) => a.role === "system")!;
        const admin = createAdminClient({ address: fed.admin!.address, trustDomain: fed.pki.trustDomain, certFile: operator.cert, keyFile: operator.key, caFile: fed.pki.caBundle });
        try {
          await admin.call("reloadTls", {});
        } finally {
          admin.close();
        }
        await applied(before);
      },
    ],
    [
      "the operator's renewal of the gateway's certificate (credex pki renew gateway --install-cert/--install-key)",
      async () => {
        const before = fed.gateway.tlsCredentials.current();
        const client = fed.pki.agencies["pbccrc"]!.client;
        const oldSerial = await servedSerial(fed.gateway.address, fed.pki.caBundle, client);
        const r = await credex("pki", "renew", "gateway", "--dir", fed.pki.dir, "--install-cert", fed.pki.gateway.cert, "--install-key", fed.pki.gateway.key);
        expect(r.code, r.stderr).toBe(0);
        await applied(before);
        // Both gateway listeners serve the renewed certificate: the admin listener is reloaded with the public one.
        const served = [await servedSerial(fed.gateway.address, fed.pki.caBundle, client), await servedSerial(fed.admin!.address, fed.pki.caBundle, client)];
        expect(served[0]).not.toBe(oldSerial);
        expect(served[1]).toBe(served[0]);
      },
    ],
  ];

  it.each(reloads)(`item 1: TLS policy survives every reload (${minVersion}): before and after %s, the public, admin and agency listeners refuse TLS < 1.2 and every suite outside the list`, async (_name, reload) => {
    expect(await policyViolations(fed, listeners())).toEqual([]);
    await reload();
    expect(await policyViolations(fed, listeners())).toEqual([]);
  });

  it(`item 1: TLS policy survives every reload (${minVersion}): before and after SIGHUP to a gateway process, its public and admin listeners refuse TLS < 1.2 and every suite outside the list`, async () => {
    // A second gateway on the same TLS files, as `credex gateway start` runs it; its own folder for its state.
    const doc = parseYaml(readFileSync(fed.configFile, "utf8")) as Record<string, unknown>;
    const own = join(fed.dir, "sighup");
    mkdirSync(join(own, "audit"), { recursive: true });
    doc["instance"] = `gw-sighup-${minVersion.replace(".", "")}`;
    // Relative paths (audit log, chain state, incidents, lists) now resolve in its own folder; the key ring is shared.
    doc["audit"] = { ...(doc["audit"] as object), keyRing: fed.manifest.keyRing };
    const configFile = join(own, "gateway.yaml");
    writeFileSync(configFile, toYaml(doc));
    const gateway = await spawnGateway(configFile);
    processes.push(gateway);
    const ownListeners = { public: { address: gateway.address, minVersion }, admin: { address: gateway.admin!, minVersion } };

    expect(await policyViolations(fed, ownListeners)).toEqual([]);
    gateway.child.kill("SIGHUP");
    await until("the gateway to log the SIGHUP reload", () => (gateway.stdout().includes('"TLS material reloaded"') ? true : undefined), 5_000);
    expect(gateway.child.exitCode).toBeNull();
    expect(await policyViolations(fed, ownListeners)).toEqual([]);

    gateway.child.kill("SIGTERM");
    expect((await gateway.exited).code).toBe(0);
  });
});
