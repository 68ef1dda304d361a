#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so that a fresh clone works with `npm ci` alone (no build step).
import { register } from 'tsx/esm/api';

// The packages that every command loads are imported before tsx's hooks are registered: under the hooks each
// module costs a round trip to tsx's worker thread, and zod alone is 95 modules (0.1–0.2 s of CPU of every
// command's start on 2 busy cores, measured beside bench/status.mjs). They are JavaScript, and the TypeScript's
// imports of them get these same modules.
await Promise.all(['commander', 'yaml', 'zod', 'picomatch'].map((name) => import(name)));
register();
await import('../src/cli/main.ts');
