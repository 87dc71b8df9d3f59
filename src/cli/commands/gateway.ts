import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";
import { loadGatewayConfig } from "../../config/gateway-config.js";
import { ConfigError } from "../../config/config-reader.js";
import { startMonitoredGateway } from "../../gateway/start-monitored-gateway.js";
import { createJsonLogger } from "../../adapters/log/json-logger.js";
import { ChainStateError } from "../../core/audit/chain-state-file.js";

export const command: CliCommand = {
  name: "gateway",
  summary: "run the exchange gateway",
  help: `credex gateway start --config <file> [--instance <name>] [--new-audit-chain]

Starts the CreditExchange gateway described by a config file (YAML; see
deploy/gateway.example.yaml). The config is validated once at start: any
problem is reported with its file and path, e.g.
  gateway.yaml: agencies[2].uscc: invalid USCC: check character at position 18 …
Logs are JSON lines (time, level, component, msg, trace_id, fields), one per
exchange among them (the subject only as its pseudonym). With an
\`observability\` section the gateway also serves Prometheus metrics
(GET http://<metricsListen>/metrics), exports traces over OTLP when
\`otlpEndpoint\` is set, and re-checks its security posture periodically.
With a \`health\` section it serves plain-HTTP GET /healthz (alive) and
GET /readyz (ready for exchanges: started, not draining, audit sink
accepting) on health.listen, for Kubernetes probes.
Signals: SIGHUP re-reads the TLS certificate, key, CA bundle and CRL;
SIGTERM/SIGINT turn /readyz to 503, drain calls in flight (up to
health.drainMs, default 10 s), flush the audit sink and exit.

  --instance <name>   this replica's name in its audit chain, instead of the
                      config's \`instance\` (same rules): replicas sharing one
                      config file each keep their own chain (Kubernetes: the
                      pod's name, stable in a StatefulSet).

The audit chain state (audit.chainState) is keyed with the gateway's
certificate key. The gateway refuses to start (exit 1, naming the file and
what is wrong) when it is missing while the audit log, the spool or the
checkpoint topic holds this instance's chain, fails its key check, or does
not match the log or topic (records removed or added while stopped). A first
start on an empty audit directory needs nothing.
  --new-audit-chain   instead of refusing, keep the refused state aside
                      (<chainState>.refused-<time>), continue after the last
                      record with a record announcing a new chain (naming the
                      previous chain's last checkpoint, or that none is known)
                      and a checkpoint, and raise an incident
                      (audit-chain-restarted). \`credex audit verify\` reports
                      the restart as a failure. Use it once, after an
                      investigation: it is not needed for a crash or a restart.

example:
  credex gateway start --config deploy/gateway.example.yaml
`,
  async run(argv) {
    const args = parseCommandArgs(this, argv, { config: { type: "string" }, instance: { type: "string" }, "new-audit-chain": { type: "boolean" } }, true);
    if (!args) return 0;
    if (args.positionals[0] !== "start") throw new UsageError(`expected "start", got ${args.positionals[0] ? `"${args.positionals[0]}"` : "nothing"}`);
    let config;
    try {
      config = loadGatewayConfig(requireOption(args.values.config, "config"), { instance: args.values.instance });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`credex gateway: invalid config: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const logger = createJsonLogger({ component: "gateway", level: config.observability?.logLevel ?? "info" });
    let monitored;
    try {
      monitored = await startMonitoredGateway(config, { logger }, { newAuditChain: args.values["new-audit-chain"] === true });
    } catch (err) {
      if (!(err instanceof ChainStateError)) throw err;
      process.stderr.write(
        `credex gateway: refusing to start: ${err.message}\n` +
          "  Check the audit trail (credex audit verify) and investigate; to go on with an announced new chain and an incident, start once with --new-audit-chain.\n",
      );
      return 1;
    }
    const gateway = monitored.gateway;
    logger.info("gateway listening", {
      address: gateway.address,
      instance: config.instance,
      audit: gateway.auditSink().describe(),
      metrics: gateway.observability?.metricsUrl,
      admin: monitored.admin?.address,
      health: monitored.health?.url,
      incidents: config.incidents.enabled ? config.incidents.file : undefined,
    });
    process.on("SIGHUP", () => {
      try {
        gateway.reloadTls();
        logger.info("TLS material reloaded");
      } catch (err) {
        logger.error("TLS reload failed; the previous material stays in use", { error: (err as Error).message });
      }
    });
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    logger.info("draining");
    await monitored.stop();
    logger.info("stopped");
    return 0;
  },
};
