import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { SpecialAccessRegistry, type SpecialApplication } from "../../core/special-access/special-access-registry.js";

/**
 * Special applications kept in one JSON file, rewritten atomically (write a
 * temporary file, fsync, rename) after every change, so a grant's remaining
 * uses survive a restart and a crash never leaves a half-written file.
 * Subjects are stored as pseudonyms only.
 */
export function openSpecialAccessFile(path: string): SpecialAccessRegistry {
  const save = (all: readonly SpecialApplication[]) => {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: 1, applications: all }, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  };
  if (!existsSync(path)) return new SpecialAccessRegistry(save);
  let saved: { version: number; applications: SpecialApplication[] };
  try {
    saved = JSON.parse(readFileSync(path, "utf8")) as typeof saved;
  } catch (err) {
    throw new Error(`special access state ${path} is unreadable: ${(err as Error).message}`);
  }
  if (saved.version !== 1 || !Array.isArray(saved.applications)) throw new Error(`special access state ${path} has an unknown format`);
  return SpecialAccessRegistry.restore(saved.applications, save);
}
