// Preloaded (through NODE_OPTIONS) into every process and worker thread that graded code starts, so that
// TypeScript entry files (`new Worker('worker.ts')`, `fork('child.ts')`) load with nothing to set up.
// tsx is registered only when the first .ts file is loaded: a process that never loads TypeScript, such
// as a test's plain .js fixture, does not pay the ~60 ms it takes to load tsx.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const EXTENSIONS = ['.ts', '.cts', '.mts', '.tsx'];

function registerOnFirstUse(module, filename) {
  for (const extension of EXTENSIONS) {
    if (Module._extensions[extension] === registerOnFirstUse) delete Module._extensions[extension];
  }
  require('tsx/cjs/api').register();
  return Module._extensions[path.extname(filename)](module, filename);
}

for (const extension of EXTENSIONS) {
  if (!Module._extensions[extension]) Module._extensions[extension] = registerOnFirstUse;
}
