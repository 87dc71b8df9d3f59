import { appendFileSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A copy of the shipped policies/ at `<parent>/policy-<name>`, with `lines` appended
 * to policy.csv and `tests` (file name → YAML) added to its tests/: a policy
 * directory for `credex policy apply` and bundle tests.
 */
export function copyPolicyDir(parent: string, name: string, lines: string, tests: Record<string, string> = {}): string {
  const dir = join(parent, `policy-${name}`);
  cpSync("policies", dir, { recursive: true });
  appendFileSync(join(dir, "policy.csv"), `\n${lines}\n`);
  mkdirSync(join(dir, "tests"), { recursive: true });
  for (const [file, text] of Object.entries(tests)) writeFileSync(join(dir, "tests", file), text);
  return dir;
}
