import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { ObjectionLedgerSchema, type ObjectionLedger } from "../../gen/credex/v1/objections_pb.js";
import type { ObjectionStore } from "../../core/objections/objection-registry.js";

/**
 * Objection state in one JSON file (protobuf JSON of an ObjectionLedger) in
 * the gateway's data dir. Written whole on every change: to a temporary file,
 * fsync'd, then renamed over the old one (rename is atomic on POSIX), so a
 * crash leaves either the old or the new state, never half of one. The file
 * holds no subject id in clear and no grounds (those live with the owner);
 * the owners' statements are sealed (objection-calls.ts).
 * One gateway instance owns the file; replicas would share a Kafka topic instead.
 */
export function createFileObjectionStore(path: string): ObjectionStore {
  return {
    async load(): Promise<ObjectionLedger> {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return create(ObjectionLedgerSchema);
        throw err;
      }
      return fromJsonString(ObjectionLedgerSchema, text);
    },
    async save(ledger: ObjectionLedger): Promise<void> {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp`;
      const handle = await open(tmp, "w", 0o600);
      try {
        await handle.writeFile(`${toJsonString(ObjectionLedgerSchema, ledger, { prettySpaces: 2 })}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
    },
  };
}
