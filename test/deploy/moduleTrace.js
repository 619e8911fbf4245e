// Preloaded (NODE_OPTIONS=--require) into the processes test/deploy/image.test.ts starts: at exit, writes the path of
// every module the process loaded to UNSTICK_MODULE_TRACE.
const fs = require('node:fs');
const file = process.env['UNSTICK_MODULE_TRACE'];
if (file) process.on('exit', () => fs.writeFileSync(file, JSON.stringify(Object.keys(require.cache))));
