import { UsageError, type CliCommand } from "./command.js";

/** Every subcommand, in the order `credex --help` lists them. */
export async function loadCommands(): Promise<CliCommand[]> {
  const modules = [
    import("./commands/demo.js"),
    import("./commands/init.js"),
    import("./commands/gateway.js"),
    import("./commands/agency.js"),
    import("./commands/query.js"),
    import("./commands/kafka.js"),
    import("./commands/pki.js"),
    import("./commands/audit.js"),
    import("./commands/policy.js"),
    import("./commands/posture.js"),
    import("./commands/incidents.js"),
    import("./commands/admin.js"),
    import("./commands/bench.js"),
    import("./commands/lists.js"),
    import("./commands/objections.js"),
    import("./commands/subject-queries.js"),
    import("./commands/disclosure.js"),
  ] as Array<Promise<{ command: CliCommand }>>;
  return (await Promise.all(modules)).map((m) => m.command);
}

function usage(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "credex: the credit-information exchange gateway",
    "",
    "usage: credex <command> [options]      (credex <command> --help for details)",
    "",
    "commands:",
    ...lines,
    "",
  ].join("\n");
}

/** `credex … | head` closes stdout early: end quietly, as Unix tools do, instead of crashing on EPIPE. */
function endQuietlyOnClosedPipe(): void {
  if (process.stdout.listenerCount("error") > 0) return;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`credex: unknown command "${name}"\n\n${usage(commands)}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`credex ${name}: ${err.message}\n(see: credex ${name} --help)\n`);
      return 2;
    }
    throw err;
  }
}
