import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The folder holding credex's package.json (works from src/ under vitest and from dist/ when built). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find credex's package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}
