import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";

/**
 * Kubernetes writes Secret and ConfigMap volumes atomically: the files are links through the
 * `..data` link, which is swapped to a new folder in one rename. The files' own names see no
 * event then; the swap of `..data` is the change.
 */
const KUBERNETES_ATOMIC_SWAP = "..data";

export interface FileWatcher {
  close(): void;
}

/**
 * Calls `onChange` once the files have been quiet for `debounceMs` after a
 * change. The parent folders are watched, not the files: operators and
 * tools replace certificates by writing a temp file and renaming it, which a
 * watch on the old inode would miss. An editor writing in several steps
 * fires several events; the debounce turns them into one reload attempt,
 * and a set still half-written then is refused by the loader and retried at
 * the next event.
 */
export function watchFiles(paths: readonly string[], onChange: () => void, options: { debounceMs?: number } = {}): FileWatcher {
  const debounceMs = options.debounceMs ?? 200;
  const byDir = new Map<string, Set<string>>();
  for (const p of paths.map((x) => resolve(x))) {
    const names = byDir.get(dirname(p)) ?? new Set<string>();
    names.add(basename(p));
    byDir.set(dirname(p), names);
  }
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    const w = watch(dir, { persistent: false }, (_event, name) => {
      // Some platforms give no name: then any change in the folder counts.
      if (name === null || names.has(name.toString()) || name.toString() === KUBERNETES_ATOMIC_SWAP) fire();
    });
    w.on("error", () => undefined);
    watchers.push(w);
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
