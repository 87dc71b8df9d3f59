import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchFiles, type FileWatcher } from "./tls-watcher.js";

let dir: string;
let watcher: FileWatcher | undefined;
afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A folder the way the kubelet writes a Secret volume: tls.crt → ..data/tls.crt, ..data → ..<timestamp>. */
function secretVolume(): string {
  dir = mkdtempSync(join(tmpdir(), "credex-secret-volume-"));
  mkdirSync(join(dir, "..2026_01_01"));
  writeFileSync(join(dir, "..2026_01_01", "tls.crt"), "old");
  symlinkSync("..2026_01_01", join(dir, "..data"));
  symlinkSync("..data/tls.crt", join(dir, "tls.crt"));
  return dir;
}

describe("TLS file watcher", () => {
  it("ok/a Kubernetes Secret update (the ..data link swapped in one rename) counts as a change of the files", async () => {
    const volume = secretVolume();
    const changed = new Promise<void>((resolve) => (watcher = watchFiles([join(volume, "tls.crt")], resolve, { debounceMs: 10 })));
    // The kubelet's AtomicWriter: a new timestamped folder, a new link to it, renamed over ..data.
    mkdirSync(join(volume, "..2026_02_01"));
    writeFileSync(join(volume, "..2026_02_01", "tls.crt"), "renewed");
    symlinkSync("..2026_02_01", join(volume, "..data_tmp"));
    renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
    await changed;
    // The reload reads through the same path and gets the new file.
    expect(readFileSync(join(volume, "tls.crt"), "utf8")).toBe("renewed");
  });
});
