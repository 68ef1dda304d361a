// The schema of lakehouse.yml. Every object is strict, so a misspelt key is an error rather than a silent default.
import { z } from 'zod';

const identifier = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    'a SQL identifier (letters, digits and _, not starting with a digit)',
  );

export const columnTypes = ['string', 'integer', 'double', 'boolean', 'date', 'timestamp'] as const;
export type ColumnType = (typeof columnTypes)[number] | `decimal(${number},${number})`;
const columnType = z
  .string()
  .regex(
    /^(string|integer|double|boolean|date|timestamp|decimal\(\d{1,2},\d{1,2}\))$/,
    `one of ${columnTypes.join(', ')} or decimal(precision,scale)`,
  )
  .transform((v) => v as ColumnType);
export const dateFormats = ['YYYY-MM-DD', 'DD-MM-YYYY', 'MM/DD/YYYY', 'DD/MM/YYYY', 'YYYYMMDD'] as const;

const column = z.strictObject({
  name: identifier,
  /** Header name in the source file; defaults to `name`. */
  source: z.string().min(1).optional(),
  type: columnType,
  nullable: z.boolean().default(true),
  /** For dates: how the source writes them. */
  format: z.enum(dateFormats).optional(),
});

const dataset = z
  .strictObject({
    name: identifier,
    source: z.strictObject({
      path: z.string().min(1),
      glob: z.string().min(1).default('*.csv'),
      /** Generate synthetic grocery data here when the folder has no matching file (local sample only). */
      sample: z.strictObject({ rows: z.number().int().positive(), seed: z.number().int() }).optional(),
    }),
    format: z.literal('csv'),
    csv: z
      .strictObject({
        header: z.boolean().default(true),
        delimiter: z.string().length(1).default(','),
      })
      .default({ header: true, delimiter: ',' }),
    columns: z.array(column).min(1),
    keys: z.array(identifier).default([]),
    load: z.strictObject({
      mode: z.enum(['append', 'merge']),
      table: identifier.optional(),
    }),
  })
  .superRefine((d, ctx) => {
    const names = new Set(d.columns.map((c) => c.name));
    d.keys.forEach((k, i) => {
      if (!names.has(k))
        ctx.addIssue({
          code: 'custom',
          path: ['keys', i],
          message: `expected one of the dataset's columns (${[...names].join(', ')}), found "${k}"`,
        });
    });
    if (d.load.mode === 'merge' && d.keys.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['keys'],
        message: 'expected at least one key column because load.mode is merge, found none',
      });
  });

const pgliteTarget = z.strictObject({ engine: z.literal('pglite'), path: z.string().min(1) });
const networkFields = {
  /** A full connection string (a secret: give it as ${env:NAME}). */
  connection: z.string().optional(),
  host: z.string().optional(),
  port: z.number().int().positive().optional(),
  database: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  schema: identifier.optional(),
};
const postgresTarget = z.strictObject({ engine: z.literal('postgres'), ...networkFields });
const mysqlTarget = z.strictObject({ engine: z.literal('mysql'), ...networkFields });
const sqlserverTarget = z.strictObject({
  engine: z.literal('sqlserver'),
  ...networkFields,
  /**
   * sql (a SQL login: user, password), azure-ad-default (DefaultAzureCredential: environment, workload identity,
   * managed identity, Azure CLI), azure-ad-password (user, password, clientId), azure-ad-service-principal
   * (clientId, password as the client secret, tenantId). Unset: what the connection string says, else sql.
   */
  authentication: z
    .enum(['sql', 'azure-ad-default', 'azure-ad-password', 'azure-ad-service-principal'])
    .optional(),
  /** Entra ID application (client) id and tenant, for the azure-ad-* authentications. */
  clientId: z.string().optional(),
  tenantId: z.string().optional(),
  /** Unset: what the connection string says, else true (encrypt) and false (verify the certificate). */
  encrypt: z.boolean().optional(),
  trustServerCertificate: z.boolean().optional(),
});
export const sqlTarget = z.discriminatedUnion('engine', [
  pgliteTarget,
  postgresTarget,
  mysqlTarget,
  sqlserverTarget,
]);

const bucketUri = z
  .string()
  .regex(/^(file|gs):\/\/.+/, 'a bucket URI: file://<folder> or gs://<bucket>[/<prefix>]');

const databricks = z
  .strictObject({
    /** The workspace URL, e.g. https://adb-123.4.azuredatabricks.net. */
    host: z.string().optional(),
    /**
     * pat (a personal access token), oauth-m2m (a service principal's client id and secret), github-oidc (GitHub
     * Actions' ID token exchanged for a Databricks token: workload identity federation). Unset: pat when token is
     * set, oauth-m2m when clientId and clientSecret are.
     */
    auth: z.enum(['pat', 'oauth-m2m', 'github-oidc']).optional(),
    /** A personal access token (a secret: give it as ${env:NAME}). */
    token: z.string().optional(),
    /** The service principal's application (client) id, for oauth-m2m and github-oidc. */
    clientId: z.string().min(1).optional(),
    /** The service principal's OAuth secret, for oauth-m2m (a secret: give it as ${env:NAME}). */
    clientSecret: z.string().optional(),
    /** github-oidc: the audience of the ID token (default: the workspace's token endpoint). */
    oidcAudience: z.string().min(1).optional(),
    warehouseHttpPath: z.string().optional(),
    /**
     * Where the transform imports the notebooks (an absolute workspace path). Checked once ${env:NAME} is resolved,
     * by the transform: the schema sees the value as written.
     */
    workspaceFolder: z.string().min(1).optional(),
    /** The SQL warehouse the notebook tasks run on (its id, the last part of its HTTP path). */
    warehouseId: z.string().min(1).optional(),
    /** Or an all-purpose cluster; with neither, the tasks run on serverless compute. */
    existingClusterId: z.string().min(1).optional(),
  })
  .refine((d) => !(d.warehouseId && d.existingClusterId), {
    message: 'expected warehouseId or existingClusterId, not both',
  })
  .superRefine((d, ctx) => {
    // Credentials that the chosen way of signing in would not use are a mistake, not a fallback.
    const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
    if (d.auth && d.auth !== 'pat' && d.token !== undefined)
      issue('token', `expected no token with auth: ${d.auth} (a token is for auth: pat)`);
    if (d.auth && d.auth !== 'oauth-m2m' && d.clientSecret !== undefined)
      issue(
        'clientSecret',
        `expected no clientSecret with auth: ${d.auth} (a client secret is for auth: oauth-m2m)`,
      );
    if (d.auth === 'pat' && d.clientId !== undefined)
      issue('clientId', 'expected no clientId with auth: pat (a client id is for oauth-m2m or github-oidc)');
    if (d.auth !== 'github-oidc' && d.oidcAudience !== undefined)
      issue('oidcAudience', 'expected oidcAudience only with auth: github-oidc');
    if (!d.auth && d.token !== undefined && d.clientSecret !== undefined)
      issue('auth', 'expected auth: pat or auth: oauth-m2m, because both token and clientSecret are set');
    if (d.clientSecret !== undefined && d.clientId === undefined)
      issue('clientId', 'expected the client id that goes with clientSecret, found nothing');
  });

/** Where `lakehouse deploy` sends the app: a Render web service (REST API with a key, or its deploy hook). */
const render = z.strictObject({
  /** The service id (srv-…), from the dashboard URL or Settings. */
  serviceId: z
    .string()
    .regex(/^(srv-[a-z0-9]+|\$\{env:[A-Za-z_][A-Za-z0-9_]*\})$/, 'a Render service id like srv-…')
    .optional(),
  /** An API key (a secret: give it as ${env:NAME}). */
  apiKey: z.string().optional(),
  /** The service's deploy hook URL (a secret: give it as ${env:NAME}), for who has no API key. */
  deployHookUrl: z.string().optional(),
  /** Render's API base URL (a proxy, or a test server). */
  apiUrl: z.string().min(1).optional(),
});

/** `lakehouse transform --on spark`: where the notebooks' Spark job runs (see src/stages/transform-spark.ts). */
/** local[*] (the default: this machine), local[N], or spark://host:port[,host:port] (a standalone cluster). */
export const sparkMaster = z
  .string()
  .regex(
    /^(local(\[(\*|[1-9][0-9]*)(,[1-9][0-9]*)?\])?|spark:\/\/[^\s/]+)$/,
    'a Spark master URL: local, local[N], local[*] or spark://host:port',
  );
const spark = z.strictObject({
  master: sparkMaster.optional(),
  /** Spark configuration over the engine's defaults, e.g. spark.driver.memory (the JVM's heap in local mode). */
  conf: z
    .record(
      z.string().regex(/^spark\./, 'a Spark configuration key (spark.…)'),
      z.union([z.string(), z.number(), z.boolean()]),
    )
    .default({}),
});

const profile = z.strictObject({
  bucket: bucketUri,
  sql: sqlTarget,
  /** Folder of the local Delta tables (one folder per schema.table). */
  delta: z.string().min(1).default('.lakehouse/delta'),
  /** Where run manifests go. */
  manifests: z.string().min(1).default('.lakehouse/manifests'),
  databricks: databricks.optional(),
  spark: spark.optional(),
  render: render.optional(),
  /** Let the file:// bucket, delta, manifests and PGlite folders lie outside the project's folder. */
  allowOutsideProject: z.boolean().optional(),
});

export const ingestSettings = z
  .strictObject({
    /** Object name template; placeholders: {dataset} {date} {file} {run_id} {sha}. */
    destination: z.string().min(1).default('{dataset}/{file}'),
    concurrency: z.number().int().min(1).max(64).default(8),
    gzip: z.boolean().default(false),
    resumableThresholdMB: z.number().positive().default(8),
    skipUnchanged: z.boolean().default(true),
    /** Delete a bucket object that ingest uploaded once its source file is gone (the load then withdraws its rows). */
    deleteMissing: z.boolean().default(false),
  })
  .default({
    destination: '{dataset}/{file}',
    concurrency: 8,
    gzip: false,
    resumableThresholdMB: 8,
    skipUnchanged: true,
    deleteMissing: false,
  });

export const loadSettings = z
  .strictObject({
    batchRows: z.number().int().min(1).default(10_000),
    /** An object that quarantines more than this share of its rows fails the load (after loading it). */
    maxQuarantineShare: z.number().min(0).max(1).default(0.05),
  })
  .default({ batchRows: 10_000, maxQuarantineShare: 0.05 });

/**
 * The DuckDB engine's resources (the notebooks run in one DuckDB instance): its memory_limit (DuckDB's default is
 * 80% of the machine's memory), its threads (default: one per core), and the folder it spills to past the limit.
 */
const duckdbSettings = z
  .strictObject({
    memoryLimit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 2GB or 512MB')
      .optional(),
    threads: z.number().int().min(1).max(1024).optional(),
    spillDirectory: z.string().min(1).default('.lakehouse/duckdb-spill'),
  })
  .default({ spillDirectory: '.lakehouse/duckdb-spill' });

export const transformSettings = z
  .strictObject({
    notebooks: z.array(z.string().min(1)).default([]),
    parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    duckdb: duckdbSettings,
  })
  .default({ notebooks: [], parameters: {}, duckdb: { spillDirectory: '.lakehouse/duckdb-spill' } });

/** A duration as `<number><unit>`, the unit m (minutes), h (hours) or d (days): `36h`, `90m`, `3d`. */
const DURATION = /^(\d+(?:\.\d+)?)([mhd])$/;
const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400 } as const;

export function durationSeconds(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`expected a duration such as 36h, 90m or 3d, found ${JSON.stringify(text)}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

const duration = z.string().regex(DURATION, 'a duration such as 36h, 90m or 3d');

/** How old the app's data may get, as dbt's source freshness: a warning after `warnAfter`, an error after `errorAfter`. */
const freshness = z.strictObject({ warnAfter: duration, errorAfter: duration }).superRefine((f, ctx) => {
  // Runs even when a duration is malformed (that has its own issue): compare well-formed ones only.
  if (!DURATION.test(f.warnAfter) || !DURATION.test(f.errorAfter)) return;
  if (durationSeconds(f.warnAfter) > durationSeconds(f.errorAfter))
    ctx.addIssue({
      code: 'custom',
      path: ['errorAfter'],
      message: `expected a duration at least warnAfter (${f.warnAfter}), found ${f.errorAfter}`,
    });
});

export const appSettings = z
  .strictObject({
    port: z.number().int().positive().default(3000),
    freshness: freshness.default({ warnAfter: '36h', errorAfter: '72h' }),
  })
  .default({ port: 3000, freshness: { warnAfter: '36h', errorAfter: '72h' } });

export const configSchema = z.strictObject({
  project: identifier,
  datasets: z.array(dataset).min(1, 'expected at least one dataset'),
  ingest: ingestSettings,
  load: loadSettings,
  transform: transformSettings,
  app: appSettings,
  defaultProfile: z.string().default('local'),
  profiles: z
    .record(z.string(), profile)
    .refine((p) => Object.keys(p).length > 0, 'expected at least one profile'),
});

export type LakehouseConfig = z.output<typeof configSchema>;
export type DatasetConfig = LakehouseConfig['datasets'][number];
export type ColumnConfig = DatasetConfig['columns'][number];
export type ProfileConfig = z.output<typeof profile>;
export type SqlTargetConfig = z.output<typeof sqlTarget>;
export type DatabricksConfig = z.output<typeof databricks>;
export type SparkConfig = z.output<typeof spark>;
export type DuckDBSettings = z.output<typeof duckdbSettings>;
export type IngestSettings = z.output<typeof ingestSettings>;
export type AppSettings = z.output<typeof appSettings>;
