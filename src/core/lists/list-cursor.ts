import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ListCursorSchema } from "../../gen/credex/v1/lists_pb.js";
import { CredexError } from "../errors.js";
import type { LogPosition } from "./list-log.js";

const MAX_CURSOR_CHARS = 16 * 1024;

/**
 * A list cursor as the subscriber keeps it: base64url (RFC 4648 §5) of a
 * ListCursor message. Opaque to callers; it names the log so that a cursor of
 * another log (another topic, a reset embedded log) is refused rather than
 * silently misread.
 */
export function encodeListCursor(log: string, position: LogPosition): string {
  const positions = [...position].sort(([a], [b]) => a - b).map(([partition, nextOffset]) => ({ partition, nextOffset }));
  return Buffer.from(toBinary(ListCursorSchema, create(ListCursorSchema, { version: 1, log, positions }))).toString("base64url");
}

/** The position a cursor encodes; "" is the start (snapshot first). Throws CURSOR_INVALID. */
export function decodeListCursor(log: string, cursor: string): Map<number, bigint> | undefined {
  if (cursor === "") return undefined;
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new CredexError("CURSOR_INVALID", "the cursor is not base64url");
  let message;
  try {
    message = fromBinary(ListCursorSchema, Buffer.from(cursor, "base64url"));
  } catch (err) {
    throw new CredexError("CURSOR_INVALID", "the cursor cannot be decoded", {}, { cause: err });
  }
  if (message.version !== 1) throw new CredexError("CURSOR_INVALID", `unknown cursor version ${message.version}`);
  if (message.log !== log) throw new CredexError("CURSOR_INVALID", `the cursor belongs to log "${message.log}", not "${log}"`, { cursor_log: message.log });
  const position = new Map<number, bigint>();
  for (const p of message.positions) {
    if (position.has(p.partition)) throw new CredexError("CURSOR_INVALID", `partition ${p.partition} appears twice`);
    position.set(p.partition, p.nextOffset);
  }
  return position;
}
