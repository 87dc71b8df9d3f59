import { relative } from "node:path";
import { parseCommandArgs, UsageError, type CliCommand } from "../command.js";

const HELP = `usage: credex policy check [dir] [--strict]
       credex policy diff <old-dir> <new-dir> [--agencies <id:SECTOR,...>]

Operations on the access policy (Casbin model + policy, issue 4). A policy
directory holds model.conf, policy.csv, categories.yaml and tests/*.yaml.

  check   parse model and policy with Casbin, report every error with file and
          line (malformed lines, bad levels, unknown purposes, categories or
          sectors, model edits the gateway cannot compile), rules that can never
          take effect, rules shadowed by others, and run the test cases in
          tests/*.yaml (request -> expected decision or highest level).
          Exit 0 when clean, 1 on any error or failing test (with --strict,
          also on warnings such as shadowed rules).
  diff    every (requester, owner, category, purpose) whose decision differs
          between two policy directories, in words. The registry is the agencies
          of both test registries unless --agencies is given.
          Exit 0 when no decision changes, 1 when some do.

options:
  --strict                 check: warnings fail too
  --agencies <list>        diff: registry as id:SECTOR pairs, comma separated

examples:
  credex policy check
  credex policy check policies --strict
  credex policy diff /tmp/policies-live policies
  credex policy diff old new --agencies pbccrc:BANKING,csrc:SECURITIES
`;

export const command: CliCommand = {
  name: "policy",
  summary: "check a policy directory (errors, dead and shadowed rules, tests) or diff two",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(this, argv, { strict: { type: "boolean" }, agencies: { type: "string" } }, true);
    if (parsed === null) return 0;
    const [action, ...args] = parsed.positionals;
    switch (action) {
      case "check": {
        if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
        if (parsed.values.agencies !== undefined) throw new UsageError("--agencies applies to diff only");
        return check(args[0] ?? "policies", parsed.values.strict === true);
      }
      case "diff": {
        if (args.length !== 2) throw new UsageError("diff needs <old-dir> and <new-dir>");
        if (parsed.values.strict !== undefined) throw new UsageError("--strict applies to check only");
        return diff(args[0]!, args[1]!, parsed.values.agencies);
      }
      case undefined:
        throw new UsageError("an action is required: check or diff");
      default:
        throw new UsageError(`unknown action "${action}" (expected check or diff)`);
    }
  },
};

async function check(dir: string, strict: boolean): Promise<number> {
  // Loaded here so that `credex --help` does not pay for casbin.
  const { checkPolicyDir } = await import("../../adapters/casbin/check-policy.js");
  const report = await checkPolicyDir(dir);
  const shown = (file: string) => {
    const rel = relative(process.cwd(), file);
    return rel === "" || rel.startsWith("..") ? file : rel;
  };
  for (const f of report.findings) {
    const where = f.line > 0 ? `${shown(f.file)}:${f.line}` : shown(f.file);
    process.stdout.write(`${where}: ${f.severity}: ${f.message}\n`);
  }
  const errors = report.findings.filter((f) => f.severity === "error").length;
  const warnings = report.findings.length - errors;
  process.stdout.write(
    `${report.ruleCount} rules, ${report.testsRun - report.testsFailed}/${report.testsRun} tests passed, ${errors} error(s), ${warnings} warning(s)` +
      `${report.revision ? `; revision ${report.revision.slice(0, 16)}` : ""}\n`,
  );
  return errors > 0 || (strict && warnings > 0) ? 1 : 0;
}

async function diff(oldDir: string, newDir: string, agencyList: string | undefined): Promise<number> {
  const { diffPolicyDirs, describeChange, PolicyDiffError } = await import("../../adapters/casbin/diff-policies.js");
  const agencies = agencyList === undefined ? undefined : parseAgencies(agencyList);
  try {
    const d = await diffPolicyDirs(oldDir, newDir, agencies);
    for (const c of d.changes) process.stdout.write(`${describeChange(c)}\n`);
    process.stdout.write(
      `${d.requestsChanged} of ${d.requestsCompared} requests (one per level) change decision; ` +
        `revision ${d.revisions[0].slice(0, 16)} -> ${d.revisions[1].slice(0, 16)}\n`,
    );
    return d.changes.some((c) => c.before.level !== c.after.level) ? 1 : 0;
  } catch (err) {
    if (err instanceof PolicyDiffError) {
      process.stderr.write(`credex policy diff: cannot compare:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function parseAgencies(list: string): Array<{ id: string; sector: string }> {
  return list.split(",").map((item) => {
    const [id, sector, extra] = item.split(":");
    if (!id || !sector || extra !== undefined) throw new UsageError(`--agencies: "${item}" is not id:SECTOR`);
    return { id: id.trim(), sector: sector.trim() };
  });
}
