import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DisclosureAction, DisclosureEntrySchema, SignedDisclosureSchema, type DisclosureEntry } from "../../gen/credex/v1/disclosure_pb.js";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import { createDevPki, type DevPki } from "../../adapters/pki/dev-pki.js";
import type { Catalogue, CategoryInfo } from "../catalogue.js";
import type { DisclosureCatalogue } from "./disclosure-catalogue.js";
import { DisclosureState } from "./disclosure-state.js";
import { PublicView } from "./public-view.js";
import { createDisclosureVerifier, disclosureKey, signDisclosure, type DisclosureSigner } from "./signed-disclosure.js";

const DAY_MS = 86_400_000;
// Now: the dev PKI's certificates are valid from now on, and a record must be published while its signer is valid.
const T0 = new Date();
let dir: string;
let pki: DevPki;
let other: DevPki;
let gateway: DisclosureSigner;
let agency: DisclosureSigner;
let foreignGateway: DisclosureSigner;

const signerOf = async (c: { cert: string; key: string }): Promise<DisclosureSigner> => ({
  certificateDer: new X509Certificate(await readFile(c.cert)).raw,
  key: createPrivateKey(await readFile(c.key)),
});

function entry(id: string, init: Record<string, unknown> = {}): DisclosureEntry {
  return create(DisclosureEntrySchema, {
    entryId: id,
    category: "administrative_penalty",
    subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" },
    subjectName: "Example Co.",
    title: "Fine",
    decisionNumber: "n-1",
    decisionDate: timestampFromDate(new Date(T0.getTime() - DAY_MS)),
    sourceDepartment: "SAMR",
    legalBasis: "Art. 1",
    action: DisclosureAction.PUBLISH,
    ownerAgency: "sh-credit",
    publishedAt: timestampFromDate(T0),
    publicityUntil: timestampFromDate(new Date(T0.getTime() + 365 * DAY_MS)),
    ...init,
  } as Parameters<typeof create<typeof DisclosureEntrySchema>>[1]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "credex-disclosure-"));
  pki = await createDevPki(join(dir, "a"), { trustDomain: "credex.example", agencies: [{ id: "sh-credit", sector: "REGIONAL", uscc: "12310000MB2F097318" }], keyBits: 2048 });
  other = await createDevPki(join(dir, "b"), { trustDomain: "credex.example", agencies: [], keyBits: 2048 });
  gateway = await signerOf(pki.gateway);
  agency = await signerOf(pki.agencies["sh-credit"]!.client);
  foreignGateway = await signerOf(other.gateway);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("signed feed records: only what a gateway of this exchange signed is read", () => {
  const verifier = async () => createDisclosureVerifier({ caBundlePem: await readFile(pki.caBundle, "utf8"), trustDomain: "credex.example" });
  const key = disclosureKey("sh-credit", "e1");

  it("reads a record the gateway signed", async () => {
    const verify = await verifier();
    expect(verify(key, signDisclosure(key, entry("e1"), gateway)).title).toBe("Fine");
  });

  it("refuses a record moved to another key (another owner's entry)", async () => {
    const verify = await verifier();
    const other = disclosureKey("csrc", "e1");
    expect(() => verify(other, signDisclosure(key, entry("e1"), gateway))).toThrow(/signature does not verify/);
  });

  it("refuses a record whose entry was altered after signing", async () => {
    const verify = await verifier();
    const signed = fromBinary(SignedDisclosureSchema, signDisclosure(key, entry("e1"), gateway));
    const altered = toBinary(SignedDisclosureSchema, create(SignedDisclosureSchema, { ...signed, entry: toBinary(DisclosureEntrySchema, entry("e1", { title: "Nothing happened" })) }));
    expect(() => verify(key, altered)).toThrow(/signature does not verify/);
  });

  it("refuses a record signed by an agency's certificate (chains to the CA, but is not the gateway)", async () => {
    const verify = await verifier();
    expect(() => verify(key, signDisclosure(key, entry("e1"), agency))).toThrow(/not the gateway's/);
  });

  it("refuses a record signed by another exchange's gateway", async () => {
    const verify = await verifier();
    expect(() => verify(key, signDisclosure(key, entry("e1"), foreignGateway))).toThrow(/not issued by the exchange CA/);
  });

  it("refuses a record whose key does not name its owner and id", async () => {
    const verify = await verifier();
    const wrong = disclosureKey("sh-credit", "e2");
    expect(() => verify(wrong, signDisclosure(wrong, entry("e1"), gateway))).toThrow(/does not name/);
  });
});

describe("the feed's state and what the public sees", () => {
  const sector = (name: string, level: number): CategoryInfo => ({ name, level, sensitive: false, negative: false, sectors: ["REGIONAL"], description: name });
  const catalogue: Catalogue = { categories: new Map([["administrative_penalty", sector("administrative_penalty", 1)], ["tax_arrears", sector("tax_arrears", 2)]]) };
  const disclosure: DisclosureCatalogue = {
    maxLagWorkingDays: 7,
    categories: new Map([
      ["administrative_penalty", { category: "administrative_penalty", kind: "penalty", publicityDays: 365, label: { zh: "行政处罚", en: "Administrative penalty" } }],
      // Misconfigured on purpose: a level-2 category named in the disclosure catalogue.
      ["tax_arrears", { category: "tax_arrears", kind: "penalty", publicityDays: 365, label: { zh: "欠税", en: "Tax arrears" } }],
    ]),
  };

  it("a withdrawal removes the entry; an earlier record replayed after it does not bring it back", () => {
    const state = new DisclosureState();
    const k = disclosureKey("sh-credit", "e1");
    expect(state.apply(k, entry("e1"))).toBe("applied");
    expect(state.apply(k, entry("e1", { action: DisclosureAction.WITHDRAW, publishedAt: timestampFromDate(new Date(T0.getTime() + 1000)) }))).toBe("applied");
    expect(state.apply(k, entry("e1"))).toBe("stale");
    expect(state.current(T0)).toEqual([]);
  });

  it("shows only level-1 categories of the credit catalogue, even when the disclosure catalogue names a level-2 one", () => {
    const state = new DisclosureState();
    state.apply("a", entry("a"));
    state.apply("b", entry("b", { category: "tax_arrears" }));
    const view = new PublicView(state, catalogue, disclosure, () => T0);
    expect(view.entries().map((e) => e.id)).toEqual(["a"]);
    expect(view.search("Example").map((s) => s.entries)).toEqual([1]);
  });

  it("withdraws an entry from public view when its publicity period ends", () => {
    const state = new DisclosureState();
    state.apply("a", entry("a"));
    expect(new PublicView(state, catalogue, disclosure, () => new Date(T0.getTime() + 364 * DAY_MS)).entries()).toHaveLength(1);
    expect(new PublicView(state, catalogue, disclosure, () => new Date(T0.getTime() + 366 * DAY_MS)).entries()).toHaveLength(0);
  });

  it("masks a natural person's id at display even if a record carried it whole, and finds it by the full number", () => {
    const state = new DisclosureState();
    state.apply("p", entry("p", { subject: { type: SubjectType.NATURAL_PERSON, id: "11010519491231002X" }, subjectName: "张三" }));
    const view = new PublicView(state, catalogue, disclosure, () => T0);
    expect(view.entries()[0]!.subject.id).toBe("110105********002X");
    expect(view.search("11010519491231002X").map((s) => s.id)).toEqual(["110105********002X"]);
    expect(view.search("11010519491231003X")).toEqual([]);
  });
});
