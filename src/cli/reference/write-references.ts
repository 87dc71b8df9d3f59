/** `npm run docs:reference`: writes docs/reference/*.md from the code (reference-docs.ts). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../config/package-root.js";
import { loadCommands } from "../main.js";
import { allReferences } from "./reference-docs.js";

async function writeReferences(): Promise<void> {
  const dir = join(packageRoot(), "docs", "reference");
  mkdirSync(dir, { recursive: true });
  for (const doc of allReferences(await loadCommands())) {
    writeFileSync(join(dir, doc.file), doc.text);
    process.stdout.write(`wrote ${join("docs", "reference", doc.file)}\n`);
  }
}

writeReferences().catch((err: unknown) => {
  process.stderr.write(`docs:reference: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
