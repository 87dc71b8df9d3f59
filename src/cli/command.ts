import { parseArgs, type ParseArgsConfig } from "node:util";

/** One `credex` subcommand. Each lives in src/cli/commands/<name>.ts and is listed once in main.ts. */
export interface CliCommand {
  readonly name: string;
  /** One line for `credex --help`. */
  readonly summary: string;
  /** Full help text: usage, options and at least one example. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A CLI mistake by the user: printed as "credex <cmd>: <message>" with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses options strictly (unknown options are a UsageError naming them) and
 * recognises --help. Returns null when help was asked for and printed.
 */
export function parseCommandArgs<O extends Options>(
  command: Pick<CliCommand, "name" | "help">,
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals, strict: true });
    if ((parsed.values as Record<string, unknown>)["help"]) {
      process.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
      return null;
    }
    return parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}
