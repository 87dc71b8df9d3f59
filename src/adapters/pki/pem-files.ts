import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes a private key readable by its owner only (0600), also when the file already existed. */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function writePublicFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFile(path, content, { mode: 0o644 });
}
