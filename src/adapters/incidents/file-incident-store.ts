import { existsSync, readFileSync } from "node:fs";
import { appendFile, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import type { Incident } from "../../core/incidents/incident.js";
import { createMemoryIncidentStore, type IncidentStore } from "../../core/incidents/incident-store.js";

/**
 * Incidents in memory, each change appended to a JSON Lines file (one
 * incident snapshot per line; the last line of an id wins). Append-only, so
 * the file is also the history of every incident. Writes are queued in order
 * and fsync'd on flush.
 */
export function createFileIncidentStore(path: string): IncidentStore {
  const memory = createMemoryIncidentStore(readIncidentsFile(path));
  let queue: Promise<void> = mkdir(dirname(path), { recursive: true }).then(() => undefined);
  let failure: unknown;
  // Snapshots not yet written, by id: a burst of evidence updates to one incident becomes one line.
  const pending = new Map<string, string>();
  const writePending = async () => {
    const lines = [...pending.values()].join("");
    pending.clear();
    if (lines !== "") await appendFile(path, lines, { mode: 0o600 });
  };
  return {
    ...memory,
    save(incident) {
      memory.save(incident);
      const scheduled = pending.size > 0;
      pending.delete(incident.id); // re-inserted last: lines keep the order of the latest changes
      pending.set(incident.id, `${JSON.stringify(incident)}\n`);
      if (!scheduled) {
        queue = queue.then(writePending).catch((err: unknown) => {
          failure ??= err;
        });
      }
    },
    async flush() {
      await queue;
      if (failure) throw failure;
      if (existsSync(path)) {
        const handle = await open(path, "r");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
    },
    async close() {
      await this.flush();
    },
    describe: () => path,
  };
}

/** The incidents of a JSONL file (latest snapshot per id, in order of opening); an absent file has none. */
export function readIncidentsFile(path: string): Incident[] {
  if (!existsSync(path)) return [];
  const byId = new Map<string, Incident>();
  const lines = readFileSync(path, "utf8").split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let incident: Incident;
    try {
      incident = JSON.parse(line) as Incident;
    } catch {
      // A torn last line (crash mid-append) is skipped; anything else is corruption.
      if (i >= lines.length - 2) continue;
      throw new Error(`${path}:${i + 1}: not a JSON incident`);
    }
    byId.set(incident.id, incident);
  }
  return [...byId.values()].sort((a, b) => a.openedAt.localeCompare(b.openedAt));
}
