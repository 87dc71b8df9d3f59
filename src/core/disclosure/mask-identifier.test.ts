import { describe, expect, it } from "vitest";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import { publicSubjectId } from "./mask-identifier.js";

describe("identifiers as published", () => {
  it("keeps the first 6 and last 4 characters of a natural person's id number, as the courts publish it", () => {
    expect(publicSubjectId(SubjectType.NATURAL_PERSON, "11010519491231002X")).toBe("110105********002X");
  });
  it("keeps an organisation's USCC whole (a public identifier)", () => {
    expect(publicSubjectId(SubjectType.LEGAL_PERSON, "91310110666007217T")).toBe("91310110666007217T");
  });
  it("stars a short natural-person id entirely rather than revealing most of it", () => {
    expect(publicSubjectId(SubjectType.NATURAL_PERSON, "1234567890")).toBe("**********");
  });
});
