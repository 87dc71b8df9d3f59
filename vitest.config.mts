import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      // Unit tests beside the code: no external services.
      { extends: true, test: { name: "unit", include: ["src/**/*.test.ts"] } },
      // Integration tests against real servers. Global setup runs only when a test of
      // this project is selected, so `vitest run src/...` never starts Kafka.
      {
        extends: true,
        test: { name: "integration", include: ["test/**/*.test.ts"], exclude: ["test/chaos/**"], globalSetup: ["test/setup/kafka-global-setup.ts"] },
      },
      // Chaos: real processes killed and restarted, faulty providers (`npm run test:chaos`, builds dist/ first).
      // Not part of `npm test`; bounded to about a minute.
      {
        extends: true,
        test: { name: "chaos", include: ["test/chaos/**/*.test.ts"], globalSetup: ["test/setup/kafka-global-setup.ts"] },
      },
    ],
  },
});
