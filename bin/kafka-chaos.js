#!/usr/bin/env node
import { main } from "../dist/cli/main.js";

main(process.argv).then((code) => {
  process.exitCode = code;
  // The command has closed what it owns and written its output; a client library that still
  // holds a socket or timer must not keep a CI job waiting for the exit.
  setTimeout(() => process.exit(code), 5000).unref();
});
