import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCommands } from "../src/cli/main.js";
import { allReferences, configReference, errorReference } from "../src/cli/reference/reference-docs.js";
import { ERROR_CATALOGUE } from "../src/core/errors.js";

// The references in docs/reference/ are made from the code; a stale one fails here with the
// command that brings it up to date.
describe("generated references are current", async () => {
  const docs = allReferences(await loadCommands());
  for (const doc of docs) {
    it(`docs/reference/${doc.file} matches the code (npm run docs:reference rewrites it)`, () => {
      const onDisk = readFileSync(join(__dirname, "..", "docs", "reference", doc.file), "utf8");
      expect(onDisk, `docs/reference/${doc.file} is stale: run npm run docs:reference`).toBe(doc.text);
    });
  }

  it("they can fail: every error reason and every command is in them, and a changed catalogue changes the errors reference", async () => {
    const errors = errorReference().text;
    for (const reason of Object.keys(ERROR_CATALOGUE)) expect(errors).toContain(`\`${reason}\``);
    const cli = docs.find((d) => d.file === "cli.md")!.text;
    for (const c of await loadCommands()) expect(cli).toContain(`## credex ${c.name}`);
    const catalogue = ERROR_CATALOGUE as unknown as Record<string, readonly [number, string]>;
    catalogue["REFERENCE_TEST_ONLY"] = [3, "added by the test"];
    try {
      expect(errorReference().text).not.toBe(errors);
    } finally {
      delete catalogue["REFERENCE_TEST_ONLY"];
    }
    expect(configReference().text).toContain("| `audit.kafka.spoolMaxRecords` | integer | `100000` | 1 – … |");
  });
});
