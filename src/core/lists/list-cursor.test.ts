import { describe, expect, it } from "vitest";
import { CredexError } from "../errors.js";
import { decodeListCursor, encodeListCursor } from "./list-cursor.js";

const reasonOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as CredexError).reason;
  }
  return "none";
};

describe("list cursor", () => {
  it("ok/round-trip", () => {
    const position = new Map([[2, 7n], [0, 12n], [1, 0n]]);
    const cursor = encodeListCursor("credex.lists.v1", position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeListCursor("credex.lists.v1", cursor)).toEqual(position);
  });

  it("ok/empty-is-start", () => {
    expect(decodeListCursor("credex.lists.v1", "")).toBeUndefined();
  });

  it.each([
    ["fail/not-base64url", "not a cursor!"],
    ["fail/not-protobuf", Buffer.from([0xff, 0xff, 0xff]).toString("base64url")],
    ["fail/other-log", encodeListCursor("another.topic", new Map([[0, 1n]]))],
    ["fail/too-long", "A".repeat(20_000)],
  ])("%s", (_name, cursor) => {
    expect(reasonOf(() => decodeListCursor("credex.lists.v1", cursor))).toBe("CURSOR_INVALID");
  });
});
