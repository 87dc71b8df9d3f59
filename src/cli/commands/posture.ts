import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { parseCommandArgs, UsageError, type CliCommand } from "../command.js";
import { loadGatewayConfig } from "../../config/gateway-config.js";
import { ConfigError } from "../../config/config-reader.js";
import type { FederationManifest } from "../../demo/federation.js";
import { evaluatePosture } from "../../core/posture/evaluate-posture.js";
import { formatPostureMarkdown, formatPostureText, postureReportJson } from "../../core/posture/format-posture.js";
import type { PostureReport } from "../../core/posture/posture-evidence.js";
import { collectPostureEvidence } from "../../adapters/posture/collect-posture-evidence.js";

export interface PostureTarget {
  readonly configFile: string;
  readonly level?: number | undefined;
  /** Gateway to probe; skipped when nothing answers there. */
  readonly address?: string | undefined;
  readonly metricsUrl?: string | undefined;
  readonly agencyCertificates?: ReadonlyArray<{ id: string; cert: string }>;
  readonly adminCertificateDir?: string | undefined;
}

/** Posture of a gateway config (and, when it answers, of the running gateway). Used by the CLI and the demo. */
export async function postureOf(target: PostureTarget): Promise<PostureReport> {
  const config = loadGatewayConfig(target.configFile);
  const address = target.address && (await reachable(target.address)) ? target.address : undefined;
  const evidence = await collectPostureEvidence({
    config,
    level: target.level ?? config.observability?.postureLevel ?? 3,
    address,
    liveNote: target.address && !address ? `the gateway at ${target.address} did not answer: configuration only` : undefined,
    metricsUrl: address ? target.metricsUrl : undefined,
    ...(target.agencyCertificates ? { agencyCertificates: target.agencyCertificates } : {}),
    ...(target.adminCertificateDir ? { adminCertificateDir: target.adminCertificateDir } : {}),
    verifyAuditNow: true,
  });
  return evaluatePosture(evidence);
}

/** The demo federation's posture, from its federation.json. */
export async function postureOfFederationDir(dir: string, level?: number): Promise<PostureReport> {
  const manifest = JSON.parse(await readFile(join(dir, "federation.json"), "utf8")) as FederationManifest & { metrics?: string };
  return postureOf({
    configFile: manifest.gatewayConfig,
    level,
    address: manifest.gateway,
    metricsUrl: manifest.metrics,
    agencyCertificates: manifest.agencies.map((a) => ({ id: a.id, cert: a.cert })),
    adminCertificateDir: join(dir, "pki"),
  });
}

function reachable(address: string, timeoutMs = 1_000): Promise<boolean> {
  const i = address.lastIndexOf(":");
  return new Promise((done) => {
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

export const command: CliCommand = {
  name: "posture",
  summary: "check the security posture against a protection level (GB/T 22239-2019)",
  help: `credex posture [--level <1-5>] (--config <gateway.yaml> | --dir <demo dir>) [--address <host:port>] [--json | --markdown]

Evaluates the controls a gateway can check for the declared security
protection level (等级保护, GB/T 22239-2019; level 3 is typical for a
national credit exchange): TLS versions and cipher suites (and, when the
gateway answers at --address or the demo's address, the versions it really
offers), client certificates required, key sizes, certificate expiry, CRL
freshness, audit sealing, audit chain verified recently (the last
\`credex audit verify\` result, or the verifier run now on a file sink), audit
topic retention and replication (Kafka), separate system/security/audit
administrator certificates, policy bundle signed, telemetry exported.
Each control is pass, warn or fail with its evidence and clause.

  --level <n>         declared level (default: observability.postureLevel, else 3)
  --config <file>     the gateway config
  --dir <dir>         a demo federation (reads <dir>/federation.json)
  --address <h:p>     a running gateway to probe (with --config)
  --json | --markdown output format (default: text)

Exit code: 0 when no control fails, 1 when one does, 2 on usage errors.

examples:
  credex posture --level 3 --config deploy/gateway.example.yaml
  credex posture --level 3 --dir .credex/demo --markdown
`,
  async run(argv) {
    const args = parseCommandArgs(this, argv, {
      level: { type: "string" },
      config: { type: "string" },
      dir: { type: "string" },
      address: { type: "string" },
      json: { type: "boolean" },
      markdown: { type: "boolean" },
    });
    if (!args) return 0;
    const v = args.values;
    let level: number | undefined;
    if (v.level !== undefined) {
      level = Number(v.level);
      if (!Number.isInteger(level) || level < 1 || level > 5) throw new UsageError(`--level must be 1..5, got "${v.level}"`);
    }
    if (Boolean(v.config) === Boolean(v.dir)) throw new UsageError("give exactly one of --config or --dir");
    if (v.json && v.markdown) throw new UsageError("give at most one of --json and --markdown");
    if (v.address !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(v.address)) throw new UsageError(`--address must be host:port, got "${v.address}"`);
    let report: PostureReport;
    try {
      report = v.dir ? await postureOfFederationDir(resolve(v.dir), level) : await postureOf({ configFile: resolve(v.config!), level, address: v.address });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`credex posture: invalid config: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const out = v.json ? `${JSON.stringify(postureReportJson(report), null, 2)}\n` : v.markdown ? formatPostureMarkdown(report) : formatPostureText(report);
    process.stdout.write(out);
    return report.failing > 0 ? 1 : 0;
  },
};
