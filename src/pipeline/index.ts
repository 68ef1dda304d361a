// src/pipeline: each stage run once, for the CLI and the actions alike. A stage's module turns lakehouse.yml (and
// any overrides an action's inputs give) into a plan, opens what the stage needs, runs the stage function of
// src/stages, writes the run manifest, and returns a StageOutcome: the stage's result, a neutral report and a
// verdict (ok, or failed with one message). src/cli prints the report as text; src/github/action-report.ts writes it
// as a job summary. Neither decides what a stage does or whether it failed.
//
//   ingest.ts                 files → bucket                      runIngest(ingestPlan(…), ctx)
//   load.ts                   bucket → SQL store                  runLoad(loadPlan(…), ctx, openStore)
//   transform.ts              the engine choice: local | databricks   runTransform(resolved, on, request, ctx)
//   transform-local.ts        notebooks on DuckDB → Delta, skip-unchanged
//   transform-databricks.ts   notebooks as one Databricks job run
//   deploy.ts                 the app to Render                   runDeploy(deployPlan(…), ctx)
//   status.ts                 bucket, loads and quarantine by dataset
//   samples.ts                the synthetic sample the local default starts from
//   report.ts, context.ts     the outcome, report and verdict types; the run context; dataset selection
//
// The actions import the stage module they need rather than this index, so that a bundle holds only its stage's
// dependencies (the load action's none of PGlite or DuckDB).
export * from './context.ts';
export * from './report.ts';
export * from './ingest.ts';
export * from './load.ts';
export * from './transform.ts';
export * from './transform-local.ts';
export * from './transform-databricks.ts';
export * from './deploy.ts';
export * from './status.ts';
export * from './samples.ts';
