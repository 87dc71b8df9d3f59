import { describe, expect, it } from "vitest";
import { runCommand } from "./run-command.js";

describe("runCommand", () => {
  it("passes stdin and reports the exit code", async () => {
    const script = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>process.exit(JSON.parse(s).code))";
    expect(await runCommand([process.execPath, "-e", script], JSON.stringify({ code: 3 }), 10_000)).toEqual({ exitCode: 3, timedOut: false });
  });
  it("kills a program that outlives its bound", async () => {
    expect(await runCommand([process.execPath, "-e", "setTimeout(() => {}, 60000)"], "{}", 200)).toEqual({ exitCode: null, timedOut: true });
  });
  it("rejects when the program cannot start", async () => {
    await expect(runCommand(["/nonexistent/program"], "{}", 1000)).rejects.toThrow(/ENOENT/);
  });
});
