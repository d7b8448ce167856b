#!/usr/bin/env node
// The CLI, bundled into one file by scripts/bundle-cli.mjs (npm install / npm run build).
import { main } from "../dist/tsbuild.mjs";

process.exitCode = await main(process.argv.slice(2));
