#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx unstick` works without a build step.
require('tsx/cjs');
require('../src/cli.ts');
