/**
 * Control areas of GB/T 22239-2019 a gateway can serve. The standard numbers
 * its requirements by level: chapter 8 is level 3 (8.1 general requirements),
 * chapter 9 level 4, with the same sub-clause layout (x.1.2 secure
 * communication network, x.1.4 secure computing environment, x.1.5 security
 * management centre). Levels 1, 2 and 5 lay out differently (fewer or
 * unpublished items), so for them only the area is named.
 */
export type ControlArea =
  | "transmission"
  | "identification"
  | "access-control"
  | "audit"
  | "integrity"
  | "backup"
  | "admin-separation"
  | "central-control";

const AREAS: Record<ControlArea, { readonly sub: string; readonly name: string }> = {
  transmission: { sub: "1.2.2", name: "communication transmission (通信传输)" },
  identification: { sub: "1.4.1", name: "identification and authentication (身份鉴别)" },
  "access-control": { sub: "1.4.2", name: "access control (访问控制)" },
  audit: { sub: "1.4.3", name: "security audit (安全审计)" },
  integrity: { sub: "1.4.7", name: "data integrity (数据完整性)" },
  backup: { sub: "1.4.9", name: "data backup and recovery (数据备份恢复)" },
  "admin-separation": { sub: "1.5.1–3", name: "system, audit and security management (系统管理/审计管理/安全管理)" },
  "central-control": { sub: "1.5.4", name: "centralised management and control (集中管控)" },
};

/** "GB/T 22239-2019 8.1.4.3 c) security audit (安全审计)" for level 3; the area alone where numbering differs. */
export function clauseOf(level: number, area: ControlArea, item?: string): string {
  const a = AREAS[area];
  if (level === 3 || level === 4) return `GB/T 22239-2019 ${level + 5}.${a.sub}${item ? ` ${item})` : ""} ${a.name}`;
  return `GB/T 22239-2019 level ${level}: ${a.name}`;
}

/** Several clauses a control serves, joined under one "GB/T 22239-2019" prefix. */
export function clausesOf(level: number, ...parts: Array<[ControlArea, string?]>): string {
  const prefix = level === 3 || level === 4 ? "GB/T 22239-2019 " : `GB/T 22239-2019 level ${level}: `;
  return prefix + parts.map(([area, item]) => clauseOf(level, area, item).slice(prefix.length)).join("; ");
}
