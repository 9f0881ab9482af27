#!/usr/bin/env node
import { main } from '../dist/cli.js';

// process.exit: wasm worker threads would otherwise keep the process alive after the work is done.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
