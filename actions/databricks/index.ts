// The Databricks action's entry (the bundle's): it runs ./main.ts, which tests and local runs call directly.
import { run } from './main.ts';

await run();
