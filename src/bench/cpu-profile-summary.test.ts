import { describe, expect, it } from "vitest";
import { summarizeCpuProfile } from "./cpu-profile-summary.js";

describe("summarizeCpuProfile", () => {
  it("shares self and inclusive time over the sampled time", () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), children: [2, 4] },
        { id: 2, callFrame: frame("runQuery", "file:///x/dist/core/pipeline.js"), children: [3] },
        { id: 3, callFrame: frame("X509Certificate", "node:internal/crypto/x509") },
        { id: 4, callFrame: frame("(idle)", "") },
      ],
      samples: [3, 3, 2, 4],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    const s = summarizeCpuProfile(profile);
    expect(s.sampledMs).toBe(4);
    expect(s.idleShare).toBe(25);
    expect(s.self[0]).toEqual({ share: 50, frame: "X509Certificate node:internal/crypto/x509:1" });
    expect(s.credexInclusive).toEqual([{ share: 75, frame: "runQuery dist/core/pipeline.js:1" }]);
  });
});
