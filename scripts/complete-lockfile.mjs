#!/usr/bin/env zx
// The npm mirror on the development machines serves native packages for linux-x64 only, so `npm install` there
// leaves the other platforms' optional binaries (DuckDB's, the Databricks SQL kernel's) out of
// package-lock.json, and `npm ci` then refuses the lock as out of sync. This adds the missing optional entries,
// with their os/cpu, so `npm ci` skips them on linux-x64 and fetches them from the registry elsewhere.
// Run it after changing dependencies: `node scripts/complete-lockfile.mjs`.
import { fs } from 'zx';

const file = new URL('../package-lock.json', import.meta.url);
const lock = await fs.readJson(file);
const platform = (name) => {
  const os = ['darwin', 'linux', 'win32'].find((o) => name.includes(`-${o}-`));
  const cpu = ['arm64', 'x64'].find((c) => new RegExp(`-${c}(-|$)`).test(name));
  const libc = name.includes('-musl') ? ['musl'] : os === 'linux' ? ['glibc'] : undefined;
  return { os, cpu, libc };
};

let added = 0;
for (const entry of Object.values(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const { os, cpu, libc } = platform(name);
    if (!os || !cpu)
      throw new Error(`${name}: cannot tell its platform from the name; add it to the lock by hand`);
    lock.packages[key] = { version, cpu: [cpu], os: [os], ...(libc ? { libc } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
await fs.writeJson(file, lock, { spaces: 2 });
console.log(`package-lock.json: added ${added} optional platform entr${added === 1 ? 'y' : 'ies'}`);
