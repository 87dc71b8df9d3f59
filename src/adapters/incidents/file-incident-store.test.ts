import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFileIncidentStore, readIncidentsFile } from "./file-incident-store.js";
import type { Incident } from "../../core/incidents/incident.js";

const incident = (id: string, state: Incident["state"], count: number): Incident => ({
  id,
  detector: "denial-burst",
  key: "bank-a",
  category: "network-attack",
  level: "IV",
  summary: "s",
  gatewayInstance: "gw",
  openedAt: `2026-01-05T09:00:0${id.slice(-1)}.000Z`,
  updatedAt: "2026-01-05T09:00:00.000Z",
  state,
  evidence: { exchangeIds: [], count, pseudonyms: [], attributes: {} },
  timeline: [],
});

describe("file incident store", () => {
  it("appends snapshots (a burst to one incident becomes one line), reloads the latest of each, and survives a torn last line", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "credex-inc-")), "sub", "incidents.jsonl");
    const store = createFileIncidentStore(path);
    store.save(incident("inc-1", "open", 1));
    store.save(incident("inc-1", "open", 2));
    store.save(incident("inc-2", "open", 1));
    await store.flush();
    store.save(incident("inc-1", "contained", 3));
    await store.close();
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(3);
    appendFileSync(path, '{"id":"inc-3","torn');
    const reloaded = readIncidentsFile(path);
    expect(reloaded.map((i) => [i.id, i.state, i.evidence.count])).toEqual([
      ["inc-1", "contained", 3],
      ["inc-2", "open", 1],
    ]);
    expect(createFileIncidentStore(path).list({ state: "unresolved" })).toHaveLength(2);
  });
  it("an absent file has no incidents", () => {
    expect(readIncidentsFile("/nonexistent/incidents.jsonl")).toEqual([]);
  });
});
