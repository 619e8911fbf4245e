#!/usr/bin/env node
// Runs the compiled CLI from dist/ when `npm run build` made one (no tsx, no TypeScript at run time), else the
// TypeScript sources through tsx so `npx unstick` works in a checkout without a build. A dist/ older than any file
// under src/ is not used (a change since the build must not be hidden); UNSTICK_FROM_SOURCE=1 always runs the sources.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const built = path.join(root, 'dist', 'cli.js');

function newestUnder(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function useBuild() {
  if (process.env['UNSTICK_FROM_SOURCE'] === '1' || !fs.existsSync(built)) return false;
  const src = path.join(root, 'src');
  return !fs.existsSync(src) || newestUnder(src) <= fs.statSync(built).mtimeMs;
}

if (useBuild()) {
  require(built);
} else {
  require('tsx/cjs');
  require('../src/cli.ts');
}
