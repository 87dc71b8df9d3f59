import type { PostureReport } from "./posture-evidence.js";

const MARK = { pass: "PASS", warn: "WARN", fail: "FAIL" } as const;

const summaryOf = (r: PostureReport) =>
  `${r.controls.length} controls: ${r.controls.length - r.failing - r.warnings} pass, ${r.warnings} warn, ${r.failing} fail`;

/** Markdown: a heading, a summary line and one table row per control. */
export function formatPostureMarkdown(r: PostureReport): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const rows = r.controls.map((c) => `| ${MARK[c.status]} | ${cell(c.title)} (\`${c.id}\`) | ${cell(c.evidence)} | ${cell(c.clause)} |`);
  return [
    `## Security posture, level ${r.level} (GB/T 22239-2019)`,
    "",
    `Checked ${r.checkedAt.toISOString()}. ${summaryOf(r)}.`,
    "",
    "| Status | Control | Evidence | Clause |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** Plain text for terminals: one block per control. */
export function formatPostureText(r: PostureReport): string {
  const width = Math.max(...r.controls.map((c) => c.id.length));
  const lines = r.controls.flatMap((c) => [`${MARK[c.status]}  ${c.id.padEnd(width)}  ${c.evidence}`, `      ${"".padEnd(width)}  ${c.clause}`]);
  return [`security posture, level ${r.level} (GB/T 22239-2019), ${r.checkedAt.toISOString()}`, ...lines, summaryOf(r), ""].join("\n");
}

/** JSON-ready form (dates as ISO strings). */
export function postureReportJson(r: PostureReport): object {
  return { level: r.level, checkedAt: r.checkedAt.toISOString(), failing: r.failing, warnings: r.warnings, controls: r.controls };
}
