import { readFileSync } from "node:fs";
import { fromJson, toJsonString, create } from "@bufbuild/protobuf";
import { FetchResponseSchema } from "../gen/credex/v1/provider_pb.js";
import type { CreditRecord } from "../gen/credex/v1/types_pb.js";

/**
 * A reference agency's records: a JSON file in the protobuf JSON mapping of
 * credex.v1.FetchResponse (`{"records": [...]}`), so any protobuf tool can
 * write one.
 */
export function loadDataset(file: string): CreditRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read dataset ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return fromJson(FetchResponseSchema, JSON.parse(text)).records;
  } catch (err) {
    throw new Error(`dataset ${file} is not a credex.v1.FetchResponse in protobuf JSON: ${(err as Error).message}`);
  }
}

export function datasetJson(records: CreditRecord[]): string {
  return toJsonString(FetchResponseSchema, create(FetchResponseSchema, { records }), { prettySpaces: 2 });
}
