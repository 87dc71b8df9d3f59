import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/**
 * A file whose writes are durable when they return. With O_DSYNC (POSIX
 * synchronized I/O data integrity, Linux open(2)) one pwrite is both the
 * write and the fdatasync: one thread-pool round trip instead of two.
 * Where the platform has no O_DSYNC, each write is followed by an fdatasync,
 * so durability never depends on the platform.
 */
export interface DurableFile {
  readonly handle: FileHandle;
  /** Writes `length` bytes of `data` at `position` (null: the append position) and returns once they are on disk. */
  write(data: Buffer, offset?: number, length?: number, position?: number | null): Promise<void>;
}

/**
 * `flags`: the open(2) flags without O_DSYNC (e.g. O_RDWR | O_CREAT | O_EXCL).
 * `dsync`: the platform's O_DSYNC (0 or undefined where it has none; tests pass 0).
 */
export async function openDurableFile(path: string, flags: number, mode?: number, dsync: number | undefined = constants.O_DSYNC): Promise<DurableFile> {
  const handle = await open(path, dsync ? flags | dsync : flags, mode);
  return {
    handle,
    async write(data, offset = 0, length = data.length - offset, position = null) {
      await handle.write(data, offset, length, position);
      if (!dsync) await handle.datasync();
    },
  };
}
