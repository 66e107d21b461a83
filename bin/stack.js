#!/usr/bin/env node
import { main } from "../dist/stack/main.js";

main(process.argv).then((code) => {
  process.exitCode = code;
});
