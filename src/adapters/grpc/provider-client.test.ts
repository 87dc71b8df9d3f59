import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { FetchResponseSchema } from "../../gen/credex/v1/provider_pb.js";
import { CreditRecordSchema, Level, RecordFieldSchema } from "../../gen/credex/v1/types_pb.js";
import { QueryResponseSchema } from "../../gen/credex/v1/exchange_pb.js";
import { decodeFetchResponse } from "./provider-client.js";

const hidden = "content no release check has judged";

function answerWithUnknownFields(): Uint8Array {
  const unknown = [{ no: 4242, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(Buffer.from(hidden)).finish() }];
  const field = create(RecordFieldSchema, { name: "summary", value: "public", level: Level.PUBLIC });
  field.$unknown = unknown;
  const record = create(CreditRecordSchema, { recordId: "r1", ownerAgency: "safe", category: "forex_violation", level: Level.PUBLIC, fields: [field] });
  record.$unknown = unknown;
  const bytes = toBinary(FetchResponseSchema, create(FetchResponseSchema, { records: [record] }));
  // The provider did send them.
  expect(Buffer.from(bytes).includes(hidden)).toBe(true);
  return bytes;
}

describe("decodeFetchResponse", () => {
  it("keeps every known field of a provider's answer", () => {
    const r = decodeFetchResponse(answerWithUnknownFields()).records[0]!;
    expect(r).toMatchObject({ recordId: "r1", ownerAgency: "safe", category: "forex_violation", level: Level.PUBLIC });
    expect(r.fields.map((f) => [f.name, f.value, f.level])).toEqual([["summary", "public", Level.PUBLIC]]);
  });

  it("drops fields the schema does not know, so re-encoding the released records cannot carry them on", () => {
    const decoded = decodeFetchResponse(answerWithUnknownFields());
    const r = decoded.records[0]!;
    expect(r.$unknown ?? []).toEqual([]);
    expect(r.fields[0]!.$unknown ?? []).toEqual([]);
    const onward = toBinary(QueryResponseSchema, create(QueryResponseSchema, { exchangeId: "x", results: [{ agencyId: "safe", records: decoded.records }] }));
    expect(Buffer.from(onward).includes(hidden)).toBe(false);
  });
});
