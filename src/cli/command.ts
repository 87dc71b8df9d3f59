import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { pemCertificateBlocks } from "../core/pem-certificates.js";

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

/**
 * Reads the certificate file given to --<name> and checks that it holds at least one PEM
 * certificate (RFC 7468), so a wrong file is named in the message instead of surfacing later
 * as an OpenSSL error ("PEM routines::no start line") that names nothing.
 */
export function readCertificateOption(name: string, file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --${name} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (pemCertificateBlocks(pem).length === 0) throw new UsageError(`--${name} ${file} holds no PEM certificate`);
  return pem;
}
