import { parseCommandArgs, UsageError, type CliCommand } from "../command.js";

const HELP = `usage: credex disclosure serve --config <gateway.yaml> [--listen 127.0.0.1:<port>]

Runs the public disclosure site (双公示): a read-only HTTP service that shows the
level-1 entries owners publish to the disclosure feed (PublishDisclosures), with
search by USCC or name, a page per subject, and JSON and Atom feeds.

It reads the feed the gateway config names (disclosure.kafka, else the embedded
file log as it is at start), verifies every record against the CA bundle of
tls.ca, and loads the catalogues of policy.categories and policy.disclosure. It
reads no private key and never calls the exchange. Loopback only: publish it
through a reverse proxy.

options:
  --config <file>    the gateway config
  --listen <addr>    127.0.0.1:<port> (default: disclosure.site.listen, 127.0.0.1:8088)

example:
  credex disclosure serve --config /tmp/fed/gateway.yaml --listen 127.0.0.1:8088
`;

export const command: CliCommand = {
  name: "disclosure",
  summary: "serve the public disclosure site (read-only, level-1 data from the disclosure feed)",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(this, argv, { config: { type: "string" }, listen: { type: "string" } }, true);
    if (parsed === null) return 0;
    const [action, ...extra] = parsed.positionals;
    if (action !== "serve") throw new UsageError(action === undefined ? "an action is required: serve" : `unknown action "${action}" (expected serve)`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (!parsed.values.config) throw new UsageError("--config <gateway.yaml> is required");
    const listen = parsed.values.listen;
    if (listen !== undefined && !/^127\.0\.0\.1:\d{1,5}$/.test(listen)) throw new UsageError(`--listen must be 127.0.0.1:<port> (loopback only), not "${listen}"`);
    const { loadGatewayConfig } = await import("../../config/gateway-config.js");
    const { serveDisclosure } = await import("../../site/serve-disclosure.js");
    const { createJsonLogger } = await import("../../adapters/log/json-logger.js");
    const config = loadGatewayConfig(parsed.values.config);
    const site = await serveDisclosure({ config, ...(listen ? { listen } : {}), logger: createJsonLogger({ component: "credex-disclosure", level: "info", write: (line) => void process.stderr.write(line) }) });
    process.stdout.write(`disclosure site: ${site.url}\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await site.close();
    return 0;
  },
};
