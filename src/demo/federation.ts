import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import type { CreditRecord } from "../gen/credex/v1/types_pb.js";
import { createDevPki, type DevPki } from "../adapters/pki/dev-pki.js";
import { generateKeyRing, serializeKeyRing } from "../core/audit/key-ring.js";
import { writePrivateFile } from "../adapters/pki/pem-files.js";
import { loadGatewayConfig, type GatewayConfig, type GatewayLimits } from "../config/gateway-config.js";
import { packageRoot } from "../config/package-root.js";
import type { GatewayParts, RunningGateway } from "../gateway/gateway.js";
import type { IncidentSystem } from "../gateway/incident-system.js";
import type { RunningAdminServer } from "../gateway/admin-server.js";
import { startMonitoredGateway } from "../gateway/start-monitored-gateway.js";
import { enrolAdminCertificate } from "../gateway/admin-totp.js";
import { issueAdminCertificate, type AdminCertificate } from "./admin-certificates.js";
import { startReferenceAgency, type RunningAgency } from "../agency/reference-agency.js";
import { datasetJson } from "../agency/dataset.js";
import type { ProviderCeiling } from "../core/provider/provider-ceiling.js";
import { createExchangeClient, type ExchangeClient } from "../client/exchange-client.js";
import { DEMO_AGENCIES, type DemoAgency } from "./demo-agencies.js";
import { demoDatasets } from "./synthetic-data.js";

export const DEMO_TRUST_DOMAIN = "credex.example";
/** The staff identifier the demo agencies' clients name as the human operator of their queries (Art. 22). */
export const DEMO_OPERATOR = "officer-0001";

export interface FederationOptions {
  readonly dir: string;
  readonly agencies?: readonly DemoAgency[];
  readonly datasets?: Record<string, CreditRecord[]>;
  /** RSA key size of the dev PKI (3072 by default; tests may use 2048 to save time). */
  readonly keyBits?: number;
  readonly limits?: Partial<GatewayLimits>;
  readonly auditSuite?: GatewayConfig["audit"]["suite"];
  /** Extra gateway config keys (merged over the generated ones), e.g. an audit.kafka section. */
  readonly gatewayConfig?: Record<string, unknown>;
  /** Parts to use instead of those built from config (tests). */
  readonly parts?: Partial<GatewayParts>;
  /** Audit to Kafka (acks=all) at these brokers instead of the local file. */
  readonly kafkaBrokers?: string;
  /**
   * The audit topics on Kafka (default credex.audit.v1 and credex.audit-checkpoints.v1). Tests
   * give each federation its own: a topic shared across runs holds other runs' chains, sealed
   * under key rings this federation does not have.
   */
  readonly kafkaAuditTopics?: { readonly topic: string; readonly checkpointTopic: string };
  /** Gateway instance name (default a fresh one per federation, so chains never collide on a shared topic). */
  readonly instance?: string;
  /** Per-agency provider delay in ms (slow-provider demos and tests). */
  readonly providerDelayMs?: Record<string, number>;
  /** Declared security-protection level (GB/T 22239-2019) per agency id; default 3. */
  readonly protectionLevels?: Record<string, number>;
  /**
   * Enrol a TOTP second factor (GB/T 22239-2019 8.1.4.1 d) for each demo administrator
   * certificate; its secret is written next to the certificate (`totpSecret`, 0600) and
   * admin clients compute their codes from it. `credex demo` turns it on; tests that
   * drive the admin API without a second factor leave it off (development mode does
   * not require one for certificates that are not enrolled).
   */
  readonly adminTotp?: boolean;
}

/** What `credex demo --keep` writes to <dir>/federation.json for users' own tools. */
export interface FederationManifest {
  readonly gateway: string;
  readonly trustDomain: string;
  readonly ca: string;
  /** The CRL files (root's and issuing CA's) clients check the gateway's certificate against. */
  readonly crl?: readonly string[];
  readonly gatewayConfig: string;
  /** The audit log file (file sink), or "kafka://<brokers>/<topic>" when auditing to Kafka. */
  readonly auditLog: string;
  readonly keyRing: string;
  /** The gateway's Prometheus endpoint (GET), when it serves one. */
  readonly metrics?: string | undefined;
  /** The gateway's incidents file (JSON Lines), read by `credex incidents list --dir`. */
  readonly incidents?: string;
  /** host:port of the GatewayAdmin listener, and the administrator certificates issued for the demo. */
  readonly admin?: string;
  readonly admins?: AdminCertificate[];
  readonly agencies: Array<{ id: string; name: string; sector: string; uscc: string; cert: string; key: string; provider: string }>;
}

export interface Federation {
  readonly dir: string;
  readonly pki: DevPki;
  readonly configFile: string;
  readonly gateway: RunningGateway;
  /** Detectors, incidents and playbooks of the gateway (config `incidents.enabled`, on by default). */
  readonly incidents?: IncidentSystem | undefined;
  /** The GatewayAdmin listener (config `admin.listen`; on by default in the demo federation). */
  readonly admin?: RunningAdminServer | undefined;
  readonly agencies: ReadonlyMap<string, RunningAgency>;
  readonly manifest: FederationManifest;
  /** A CreditExchange client holding `agencyId`'s certificate. */
  /** A client of `agencyId`; queries name `operator` (default DEMO_OPERATOR; "" names none). */
  client(agencyId: string, options?: { readonly operator?: string }): ExchangeClient;
  stopAgency(agencyId: string): Promise<void>;
  /** Starts a stopped agency again at its old address (the registry's); no-op for a running one. */
  restartAgency(agencyId: string): Promise<void>;
  /** Agencies stopped by stopAgency and not restarted. */
  stoppedAgencies(): string[];
  stop(): Promise<void>;
}

/**
 * A whole exchange on 127.0.0.1: dev PKI, audit key ring, the reference
 * agencies with their datasets, and the gateway. Used by `credex demo`, the
 * integration tests and the benchmarks.
 */
export async function startFederation(options: FederationOptions): Promise<Federation> {
  const dir = options.dir;
  const members = options.agencies ?? DEMO_AGENCIES;
  const datasets = options.datasets ?? demoDatasets();
  await mkdir(join(dir, "data"), { recursive: true });
  await mkdir(join(dir, "audit"), { recursive: true });
  // A new federation (fresh PKI) starts without the incidents of an earlier one in the same dir.
  await rm(join(dir, "incidents"), { recursive: true, force: true });
  // Nor with its list log: its entries are sealed under the earlier run's key ring, which is replaced below.
  await rm(join(dir, "lists"), { recursive: true, force: true });
  // Nor with its disclosure feed: its records are signed by the earlier run's gateway, under a CA replaced below.
  await rm(join(dir, "disclosure"), { recursive: true, force: true });

  const pki = await createDevPki(join(dir, "pki"), {
    trustDomain: DEMO_TRUST_DOMAIN,
    agencies: members.map((a) => ({ id: a.id, sector: a.sector, uscc: a.uscc, name: a.name })),
    ...(options.keyBits ? { keyBits: options.keyBits } : {}),
  });
  const keyRingFile = join(dir, "audit", "key-ring.json");
  await writePrivateFile(keyRingFile, serializeKeyRing(generateKeyRing("k1")));

  const agencies = new Map<string, RunningAgency>();
  const clients: ExchangeClient[] = [];
  try {
    const startMember = (member: DemoAgency, listen: string) =>
      startReferenceAgency({
        agencyId: member.id,
        trustDomain: DEMO_TRUST_DOMAIN,
        listen,
        // Both CRLs: the gateway's certificate is checked against them at the handshake and on every call.
        tls: { cert: pki.agencies[member.id]!.server.cert, key: pki.agencies[member.id]!.server.key, ca: pki.caBundle, crl: [pki.rootCrl, pki.crl] },
        records: datasets[member.id] ?? [],
        ceiling: demoCeiling(member),
        ...(options.providerDelayMs?.[member.id] ? { delayMs: options.providerDelayMs[member.id] } : {}),
      });
    for (const member of members) {
      await writeFile(join(dir, "data", `${member.id}.json`), datasetJson(datasets[member.id] ?? []));
      agencies.set(member.id, await startMember(member, "127.0.0.1:0"));
    }
    const stopped = new Set<string>();

    const policies = join(packageRoot(), "policies");
    const configFile = join(dir, "gateway.yaml");
    const document = {
      instance: options.instance ?? `gw-demo-${randomBytes(3).toString("hex")}`,
      trustDomain: DEMO_TRUST_DOMAIN,
      listen: "127.0.0.1:0",
      // Both CRLs: Node checks revocation for every certificate of the chain (dev-pki.ts).
      tls: { cert: pki.gateway.cert, key: pki.gateway.key, ca: pki.caBundle, crl: [pki.rootCrl, pki.crl] },
      policy: { model: join(policies, "model.conf"), policy: join(policies, "policy.csv"), categories: join(policies, "categories.yaml") },
      agencies: members.map((m) => ({
        id: m.id,
        name: m.name,
        sector: m.sector,
        uscc: m.uscc,
        provider: agencies.get(m.id)!.address,
        categories: [...m.categories],
        clearance: m.clearance,
        protectionLevel: options.protectionLevels?.[m.id] ?? 3,
        ...(m.roles && m.roles.length > 0 ? { roles: [...m.roles] } : {}),
      })),
      admin: { listen: "127.0.0.1:0" },
      audit: {
        sink: options.kafkaBrokers ? "kafka" : "file",
        file: "audit/audit.log",
        keyRing: "audit/key-ring.json",
        suite: options.auditSuite ?? "AES-256-GCM",
        chainState: "audit/chain-state.json",
        ...(options.kafkaBrokers ? { kafka: { brokers: options.kafkaBrokers.split(","), spoolFile: "audit/spool.log", ...(options.kafkaAuditTopics ?? {}) } } : {}),
      },
      observability: { metricsListen: "127.0.0.1:0", postureLevel: 3 },
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.gatewayConfig ?? {}),
    };
    await writeFile(configFile, `# Generated by credex demo: the gateway of the demo federation.\n${toYaml(document)}`);
    const config = loadGatewayConfig(configFile);
    const monitored = await startMonitoredGateway(config, options.parts);
    const { gateway, incidents, admin: adminServer } = monitored;
    // One security officer for the demo; tests issue the other roles themselves.
    // One certificate per administrator role: system, security and audit administrators are separate people (GB/T 22239-2019).
    const issued = adminServer
      ? await Promise.all([
          issueAdminCertificate(pki, "security", "demo-officer", options.keyBits),
          issueAdminCertificate(pki, "system", "demo-operator", options.keyBits),
          issueAdminCertificate(pki, "audit", "demo-auditor", options.keyBits),
        ])
      : [];
    const admins = options.adminTotp && config.admin ? await Promise.all(issued.map((a) => enrolDemoAdmin(a, config.admin!.totp.enrolments, DEMO_TRUST_DOMAIN))) : issued;

    const manifest: FederationManifest = {
      gateway: gateway.address,
      trustDomain: DEMO_TRUST_DOMAIN,
      ca: pki.caBundle,
      crl: [pki.rootCrl, pki.crl],
      gatewayConfig: configFile,
      auditLog: config.audit.sink === "kafka" ? `kafka://${config.audit.kafka!.brokers.join(",")}/${config.audit.kafka!.topic}` : config.audit.file,
      keyRing: keyRingFile,
      metrics: gateway.observability?.metricsUrl,
      ...(incidents ? { incidents: config.incidents.file } : {}),
      ...(adminServer ? { admin: adminServer.address, admins } : {}),
      agencies: members.map((m) => ({
        id: m.id,
        name: m.name,
        sector: m.sector,
        uscc: m.uscc,
        cert: pki.agencies[m.id]!.client.cert,
        key: pki.agencies[m.id]!.client.key,
        provider: agencies.get(m.id)!.address,
      })),
    };
    await writeFile(join(dir, "federation.json"), `${JSON.stringify(manifest, null, 2)}\n`);

    return {
      dir,
      pki,
      configFile,
      gateway,
      incidents,
      admin: adminServer,
      agencies,
      manifest,
      client(agencyId, options = {}) {
        const member = pki.agencies[agencyId];
        if (!member) throw new Error(`no agency "${agencyId}" in this federation`);
        const client = createExchangeClient({
          address: gateway.address,
          trustDomain: DEMO_TRUST_DOMAIN,
          certFile: member.client.cert,
          keyFile: member.client.key,
          caFile: pki.caBundle,
          crlFiles: [pki.rootCrl, pki.crl],
          // Art. 22: a query names the human operator who asks; each demo agency has one signed in.
          operator: options.operator ?? DEMO_OPERATOR,
        });
        clients.push(client);
        return client;
      },
      async stopAgency(agencyId) {
        await agencies.get(agencyId)?.stop();
        stopped.add(agencyId);
      },
      async restartAgency(agencyId) {
        const member = members.find((m) => m.id === agencyId);
        if (!member || !stopped.has(agencyId)) return;
        // The same address: the gateway's registry names it.
        agencies.set(agencyId, await startMember(member, agencies.get(agencyId)!.address));
        stopped.delete(agencyId);
      },
      stoppedAgencies: () => [...stopped],
      async stop() {
        clients.forEach((c) => c.close());
        await monitored.stop(5_000);
        await Promise.all([...agencies.values()].map((a) => a.stop()));
      },
    };
  } catch (err) {
    await Promise.all([...agencies.values()].map((a) => a.stop()));
    throw err;
  }
}

/**
 * A demo agency's own ceiling: each category it provides, up to SENSITIVE, so
 * that the demo's outcomes are the gateway policy's. A real agency writes its
 * own (credex agency serve --ceiling).
 */
function demoCeiling(member: DemoAgency): ProviderCeiling {
  return { categories: Object.fromEntries(member.categories.map((c) => [c, 4])) };
}

/** The system administrator's enrolment step (credex admin totp enroll --secret-file) for a demo administrator. */
async function enrolDemoAdmin(admin: AdminCertificate, enrolments: string, trustDomain: string): Promise<AdminCertificate> {
  const enrolled = enrolAdminCertificate(enrolments, await readFile(admin.cert, "utf8"), trustDomain, new Date());
  const totpSecret = `${admin.cert.replace(/\.crt$/, "")}.totp`;
  await writePrivateFile(totpSecret, `${enrolled.secret}\n`);
  return { ...admin, totpSecret };
}
