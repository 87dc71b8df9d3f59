import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import { subjectPseudonym } from "./pseudonym.js";

describe("subjectPseudonym", () => {
  const key = Buffer.alloc(32, 7);
  it("ok/is HMAC-SHA256 of type:id in hex", () => {
    const expected = createHmac("sha256", key).update("LEGAL_PERSON:91310110666007217T").digest("hex");
    expect(subjectPseudonym(key, SubjectType.LEGAL_PERSON, "91310110666007217T")).toBe(expected);
  });
  it("ok/type separates the same id", () => {
    expect(subjectPseudonym(key, SubjectType.NATURAL_PERSON, "x")).not.toBe(subjectPseudonym(key, SubjectType.LEGAL_PERSON, "x"));
  });
  it("ok/depends on the key and never contains the id", () => {
    const p = subjectPseudonym(key, SubjectType.NATURAL_PERSON, "11010519491231002X");
    expect(p).not.toContain("11010519491231002X");
    expect(p).not.toBe(subjectPseudonym(Buffer.alloc(32, 8), SubjectType.NATURAL_PERSON, "11010519491231002X"));
  });
  it("ok/an unknown type (a refused request must still be audited) gets its own namespace", () => {
    const expected = createHmac("sha256", key).update("UNKNOWN_TYPE_99:x").digest("hex");
    expect(subjectPseudonym(key, 99 as SubjectType, "x")).toBe(expected);
    expect(subjectPseudonym(key, -1 as SubjectType, "x")).not.toBe(expected);
  });
});
