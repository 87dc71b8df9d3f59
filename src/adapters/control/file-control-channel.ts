import { appendFile, mkdir, open, stat } from "node:fs/promises";
import { unwatchFile, watchFile } from "node:fs";
import { dirname } from "node:path";
import type { ControlChannel, ControlRecord } from "../../core/control/control-channel.js";

/**
 * The control channel when no Kafka is configured: an append-only JSON-lines
 * file ({"key", "value": base64} per line) shared by the processes of one
 * host. Subscribers read it from the start, then poll for appended lines
 * (fs.watchFile, every `pollMs`). The file is never compacted: replay applies
 * records in order, so the last one of a key wins, as on a compacted topic.
 */
export function createFileControlChannel(file: string, options: { pollMs?: number } = {}): ControlChannel {
  const pollMs = options.pollMs ?? 100;
  const closers = new Set<() => void>();
  return {
    description: `file ${file}`,
    async publish(record) {
      await mkdir(dirname(file), { recursive: true });
      // One appendFile call per line: O_APPEND keeps concurrent writers' lines whole.
      await appendFile(file, `${JSON.stringify({ key: record.key, value: Buffer.from(record.value).toString("base64") })}\n`, { mode: 0o640 });
    },
    async subscribe(onRecord) {
      let offset = 0;
      let partial = "";
      let reading: Promise<void> = Promise.resolve();
      const readNew = async () => {
        const size = await stat(file).then((s) => s.size, () => 0);
        if (size <= offset) return;
        const handle = await open(file, "r");
        try {
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          offset = size;
          const lines = (partial + buffer.toString("utf8")).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            if (line.trim() === "") continue;
            let record: ControlRecord;
            try {
              const doc = JSON.parse(line) as { key: string; value: string };
              record = { key: String(doc.key), value: Buffer.from(String(doc.value), "base64") };
            } catch {
              record = { key: "", value: Buffer.from(line) };
            }
            onRecord(record);
          }
        } finally {
          await handle.close();
        }
      };
      const poll = () => {
        reading = reading.then(readNew).catch(() => undefined);
      };
      await readNew();
      watchFile(file, { interval: pollMs, persistent: false }, poll);
      const close = () => unwatchFile(file, poll);
      closers.add(close);
      return {
        async close() {
          close();
          closers.delete(close);
          await reading;
        },
      };
    },
    async close() {
      for (const c of closers) c();
      closers.clear();
    },
  };
}
