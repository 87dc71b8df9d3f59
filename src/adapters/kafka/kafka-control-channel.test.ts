import { describe, expect, it } from "vitest";
import { CONTROL_TOPIC_CONFIGS, controlTopicProblems } from "./kafka-control-channel.js";

// Issue 16, item 4: the control topic must not lose a revocation before the certificate it revokes has expired.
describe("control topic config", () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ["ok/the config the channel creates the topic with", { ...CONTROL_TOPIC_CONFIGS }, ""],
    ["ok/kept for ever by deletion (retention -1)", { "cleanup.policy": "delete", "retention.ms": "-1", "message.timestamp.type": "LogAppendTime" }, ""],
    [
      "fail/compacted without a lag (the topic config before issue 16)",
      { "cleanup.policy": "compact", "min.compaction.lag.ms": "0", "message.timestamp.type": "CreateTime" },
      "min.compaction.lag.ms 0 lets compaction drop a revocation under a later record or tombstone before the certificate expires; message.timestamp.type CreateTime lets producers date records back",
    ],
    [
      "fail/deleted after a week",
      { "cleanup.policy": "compact,delete", "retention.ms": "604800000", "min.compaction.lag.ms": CONTROL_TOPIC_CONFIGS["min.compaction.lag.ms"]!, "message.timestamp.type": "LogAppendTime" },
      "cleanup.policy compact,delete deletes records after retention.ms 604800000",
    ],
  ];
  for (const [name, config, problems] of cases) it(name, () => expect(controlTopicProblems(config)).toBe(problems));
});
