import { BracketAwareCsvParser, newEnforcer, newModelFromString, StringAdapter } from "casbin";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FastPolicyLineParser, PolicyTextAdapter } from "./policy-text-adapter.js";
import { createSeededRandom } from "../../core/identifiers/random-source.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");

// mulberry32, shared with the synthetic-data generators.
const prng = createSeededRandom;

const outcome = (parse: () => unknown): unknown => {
  try {
    return { tokens: parse() };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

describe("FastPolicyLineParser", () => {
  it("ok/gives Casbin's tokens on 30,000 random lines, plain or not", () => {
    const rand = prng(7);
    // Weighted towards what policy lines contain, with every character csv-parse treats specially.
    const alphabet = ["p", "g3", "a", "Z", "_", "-", ":", "|", "*", "1", ",", ",", ", ", " ", " ", "\t", "#", '"', "(", ")", "\r", "\u00a0", "\u3000", "é", "'", "\\"];
    const fast = new FastPolicyLineParser();
    const casbin = new BracketAwareCsvParser();
    let plain = 0;
    for (let i = 0; i < 30_000; i++) {
      const n = Math.floor(rand() * 24);
      const line = Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      if (/^[\x20-\x21\x23-\x27\x2a-\x7e\t]*$/.test(line)) plain++;
      expect(outcome(() => fast.parse(line)), JSON.stringify(line)).toEqual(outcome(() => casbin.parse(line)));
    }
    expect(plain).toBeGreaterThan(3000); // the fast path was exercised
  });

  it("ok/the shipped policy loads to the same model as Casbin's StringAdapter", async () => {
    const model = readFileSync(join(POLICIES, "model.conf"), "utf8");
    const policy = readFileSync(join(POLICIES, "policy.csv"), "utf8");
    const viaCasbin = await newEnforcer(newModelFromString(model), new StringAdapter(policy));
    const viaFast = await newEnforcer(newModelFromString(model), new PolicyTextAdapter(policy));
    expect(await viaFast.getPolicy()).toEqual(await viaCasbin.getPolicy());
    expect(await viaFast.getNamedGroupingPolicy("g3")).toEqual(await viaCasbin.getNamedGroupingPolicy("g3"));
    expect((await viaFast.getPolicy()).length).toBeGreaterThan(20);
  });
});
