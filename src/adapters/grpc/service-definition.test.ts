import { create, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CreditProvider, FetchResponseSchema } from "../../gen/credex/v1/provider_pb.js";
import { serviceDefinitionOf } from "./service-definition.js";

describe("serviceDefinitionOf", () => {
  it("serializes a response to a Buffer that decodes to the same message, and passes Buffers through", () => {
    const fetch = serviceDefinitionOf(CreditProvider)["fetch"]!;
    const message = create(FetchResponseSchema, { records: [{ recordId: "r1", ownerAgency: "csrc", category: "red_list", level: 1, fields: [{ name: "detail", value: "x".repeat(4096), level: 1 }] }] });
    const bytes = fetch.responseSerialize(message);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(fromBinary(FetchResponseSchema, bytes)).toEqual(message);
    const already = Buffer.from([0x0a, 0x00]);
    expect(fetch.responseSerialize(already as never)).toBe(already);
  });
});
