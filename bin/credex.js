#!/usr/bin/env node
// Entry point of the `credex` CLI; the TypeScript sources are compiled to dist/ by `npm run build`.
"use strict";
require("../dist/cli/main.js").main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`credex: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
