import { parseCommandArgs, UsageError, type CliCommand } from "../command.js";

const HELP = `usage: credex kafka start|stop|status [--dir <dataDir>]

Runs a real single-node Apache Kafka broker (KRaft) in the background for
development and tests, without Docker. Needs java (17+) and, on first use, mvn to
fetch org.apache.kafka:kafka_2.13 into ~/.cache/credex (or $CREDEX_KAFKA_CACHE).
The broker listens on 127.0.0.1 only.

  start    start the broker (or find the running one); prints
           KAFKA_BROKERS=127.0.0.1:<port> once it answers, and exits 0
  status   print whether the broker of the data dir is running, and its address
           (exit code 1 when it is not running)
  stop     stop it (SIGTERM, then SIGKILL after 30 s)

options:
  --dir <dataDir>   data, log and pid files (default: .credex/kafka in the repository)

examples:
  npm run kafka -- start
  eval "$(credex kafka start)" && echo "$KAFKA_BROKERS"
  credex kafka status --dir /tmp/k1
  credex kafka stop
`;

export const command: CliCommand = {
  name: "kafka",
  summary: "start, stop or check a local Kafka broker for development and tests",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(this, argv, { dir: { type: "string" } }, true);
    if (parsed === null) return 0;
    const [action, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const dataDir = parsed.values.dir;
    // Loaded here so that `credex --help` does not pay for the Kafka client.
    const broker = await import("../../dev/kafka-broker.js");
    switch (action) {
      case "start": {
        const started = await broker.startKafkaBroker({ dataDir, log: (line) => process.stderr.write(`credex kafka: ${line}\n`) });
        process.stdout.write(`KAFKA_BROKERS=${started.brokers}\n`);
        process.stderr.write(`credex kafka: broker running (pid ${started.pid}, data ${started.dataDir})\n`);
        return 0;
      }
      case "status": {
        const s = broker.kafkaBrokerStatus(dataDir);
        if (!s.running) {
          process.stdout.write(`not running (data ${s.dataDir})\n`);
          return 1;
        }
        process.stdout.write(`running (pid ${s.pid}, data ${s.dataDir}${s.logFile ? `, log ${s.logFile}` : ""})\nKAFKA_BROKERS=${s.brokers ?? "unknown"}\n`);
        return 0;
      }
      case "stop": {
        const stopped = await broker.stopKafkaBroker(dataDir);
        process.stdout.write(stopped ? "stopped\n" : "not running\n");
        return 0;
      }
      case undefined:
        throw new UsageError("an action is required: start, stop or status");
      default:
        throw new UsageError(`unknown action "${action}" (expected start, stop or status)`);
    }
  },
};
