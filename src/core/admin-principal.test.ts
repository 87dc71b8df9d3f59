import { describe, expect, it } from "vitest";
import { ADMIN_METHOD_ROLES, requireAdminRole, type AdminPrincipal } from "./admin-principal.js";
import { GatewayAdmin } from "../gen/credex/v1/admin_pb.js";

const as = (role: AdminPrincipal["role"]): AdminPrincipal => ({ role, name: "x", id: `admin/${role}/x`, certFingerprint: "f", certSerial: "1" });

describe("admin roles", () => {
  it("every GatewayAdmin method has roles (default deny otherwise)", () => {
    expect(GatewayAdmin.methods.map((m) => m.name).filter((n) => !ADMIN_METHOD_ROLES[n])).toEqual([]);
  });
  const table: Array<[string, AdminPrincipal["role"], boolean]> = [
    ["SuspendAgency", "security", true],
    ["SuspendAgency", "system", false],
    ["SuspendAgency", "audit", false],
    ["ResolveIncident", "security", true],
    ["ResolveIncident", "audit", false],
    ["ListIncidents", "audit", true],
    ["ListIncidents", "system", false],
    ["ReloadTls", "system", true],
    ["ReloadTls", "security", false],
    ["GetStatus", "audit", true],
    ["NoSuchMethod", "security", false],
  ];
  for (const [method, role, ok] of table) {
    it(`${ok ? "ok" : "fail"}/${method}-${role}`, () => {
      if (ok) expect(() => requireAdminRole(as(role), method)).not.toThrow();
      else expect(() => requireAdminRole(as(role), method)).toThrowError(expect.objectContaining({ reason: "ADMIN_ROLE_REQUIRED", code: 7 }));
    });
  }
});
