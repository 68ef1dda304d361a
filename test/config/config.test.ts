import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, findDataset, loadConfig, parseConfig } from '../../src/config/load.ts';
import { authFromSettings } from '../../src/databricks/auth.ts';
import { redact } from '../../src/util/secrets.ts';
import { repoRoot } from '../helpers/services.ts';

const base = fs.readFileSync(path.join(repoRoot, 'lakehouse.yml'), 'utf8');
const parse = (text: string, profile?: string) => parseConfig(text, '/project/lakehouse.yml', profile);

/** The lines of a config error with several mistakes: one per mistake, then their count. */
function mistakesOf(text: string, profile?: string): string[] {
  try {
    parse(text, profile);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

function errorOf(text: string, profile?: string): string {
  try {
    parse(text, profile);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('lakehouse.yml', () => {
  it('the project’s own config is valid and defaults to the embedded local profile', () => {
    const resolved = loadConfig(path.join(repoRoot, 'lakehouse.yml'));
    expect(resolved.profileName).toBe('local');
    expect(resolved.profile.sql).toEqual({ engine: 'pglite', path: '.lakehouse/pglite' });
    expect(resolved.config.datasets[0]!.columns.map((c) => c.name)).toEqual([
      'member_number',
      'txn_date',
      'item',
    ]);
  });

  it('names an unknown key with its path and line', () => {
    expect(errorOf(base.replace('    format: csv', '    format: csv\n    fromat: csv'))).toMatch(
      /^lakehouse.yml:\d+: datasets\[0\]: unknown key "fromat" \(check the spelling/,
    );
  });

  it('names a wrong type with what was expected and found', () => {
    expect(errorOf(base.replace('port: 3000', 'port: three thousand'))).toMatch(
      /^lakehouse.yml:\d+: app.port: expected number, found "three thousand"$/,
    );
    expect(errorOf(base.replace('type: integer', 'type: int'))).toMatch(
      /^lakehouse.yml:\d+: datasets\[0\].columns\[0\].type: expected one of string, integer, double, boolean, date, timestamp or decimal\(precision,scale\), found "int"$/,
    );
  });

  it('says when a required key is missing', () => {
    expect(
      errorOf(base.replace("      glob: '*.csv'\n", '').replace('      path: data/sample\n', '')),
    ).toMatch(/datasets\[0\].source.path: expected string, found nothing \(the key is required\)$/);
    expect(errorOf(base.replace(/datasets:[\s\S]*?\ningest:/, 'datasets: []\ningest:'))).toMatch(
      /: datasets: expected at least one dataset, found a list$/,
    );
  });

  it('refuses keys that are not columns, and merge without keys', () => {
    expect(
      errorOf(base.replace('load: { mode: append', 'keys: [member, item]\n    load: { mode: append')),
    ).toMatch(
      /datasets\[0\].keys\[0\]: expected one of the dataset's columns \(member_number, txn_date, item\), found "member"$/,
    );
    expect(errorOf(base.replace('mode: append', 'mode: merge'))).toMatch(
      /datasets\[0\].keys: expected at least one key column because load.mode is merge, found none$/,
    );
  });

  it('names a dataset that does not exist', () => {
    expect(() => findDataset(parse(base).config, 'sales')).toThrow(
      'dataset "sales" is not defined in lakehouse.yml (datasets: transactions)',
    );
  });

  it('names an unset environment variable and the key that needs it', () => {
    delete process.env.GCS_BUCKET;
    delete process.env.SQLSERVER_CONNECTION_STRING;
    expect(mistakesOf(base, 'gcp')).toEqual([
      'lakehouse.yml:55: profiles.gcp.bucket: environment variable GCS_BUCKET is not set (expected by ${env:GCS_BUCKET})',
      'lakehouse.yml:58: profiles.gcp.sql.connection: environment variable SQLSERVER_CONNECTION_STRING is not set (expected by ${env:SQLSERVER_CONNECTION_STRING})',
      '2 mistakes in lakehouse.yml',
    ]);
    expect(errorOf(base, 'staging')).toBe(
      'lakehouse.yml: profiles.staging: expected a profile named "staging", found only local, gcp',
    );
  });

  it('refuses secrets written in the file, and redacts the ones from the environment', () => {
    const withDatabricks = (token: string) =>
      base.replace(
        '    manifests: .lakehouse/manifests\n\n  # The cloud',
        `    databricks: { host: x, token: '${token}' }\n    manifests: .lakehouse/manifests\n\n  # The cloud`,
      );
    expect(
      errorOf(
        base.replace(
          '    manifests: .lakehouse/manifests\n\n  # The cloud',
          "    render: { serviceId: srv-abc, apiKey: 'rnd_literal' }\n    manifests: .lakehouse/manifests\n\n  # The cloud",
        ),
      ),
    ).toBe(
      'lakehouse.yml:51: profiles.local.render.apiKey: expected a reference to an environment variable like ${env:NAME}, found a literal secret (secrets must come from the environment)',
    );
    expect(errorOf(withDatabricks('dapi123456'))).toBe(
      'lakehouse.yml:51: profiles.local.databricks.token: expected a reference to an environment variable like ${env:NAME}, found a literal secret (secrets must come from the environment)',
    );
    expect(
      errorOf(
        base.replace(
          'connection: ${env:SQLSERVER_CONNECTION_STRING}',
          'connection: Server=x;Password=hunter22',
        ),
      ),
    ).toMatch(/profiles.gcp.sql.connection: expected a reference to an environment variable/);
    Object.assign(process.env, {
      GCS_BUCKET: 'my-bucket',
      SQLSERVER_CONNECTION_STRING: 'Server=db;User Id=sa;Password=s3cret-value',
      DATABRICKS_TOKEN: 'dapi-secret-token',
    });
    // The databricks section is resolved only where the transform on Databricks asks for it.
    expect(parse(withDatabricks('${env:DATABRICKS_TOKEN}')).profile.databricks?.token).toBe(
      '${env:DATABRICKS_TOKEN}',
    );
    expect(
      parseConfig(withDatabricks('${env:DATABRICKS_TOKEN}'), '/project/lakehouse.yml', undefined, {
        resolve: ['databricks'],
      }).profile.databricks?.token,
    ).toBe('dapi-secret-token');
    const resolved = parse(base, 'gcp');
    expect(resolved.profile.bucket).toBe('gs://my-bucket/raw');
    expect(redact('token dapi-secret-token and Server=db;User Id=sa;Password=s3cret-value')).toBe(
      'token *** and ***',
    );
    expect(redact('bucket my-bucket')).toBe('bucket my-bucket');
  });

  it('needs the Databricks variables only where the databricks section is resolved', () => {
    const withDatabricks = base.replace(
      '    manifests: .lakehouse/manifests\n\n  # The cloud',
      "    databricks: { host: x, token: '${env:LAKEHOUSE_UNSET_TOKEN}' }\n    manifests: .lakehouse/manifests\n\n  # The cloud",
    );
    delete process.env.LAKEHOUSE_UNSET_TOKEN;
    expect(parse(withDatabricks).profile.sql.engine).toBe('pglite');
    expect(() =>
      parseConfig(withDatabricks, '/project/lakehouse.yml', undefined, { resolve: ['databricks'] }),
    ).toThrow(
      'lakehouse.yml:51: profiles.local.databricks.token: environment variable LAKEHOUSE_UNSET_TOKEN is not set (expected by ${env:LAKEHOUSE_UNSET_TOKEN})',
    );
  });

  it('takes the Databricks workspace folder from the environment too', () => {
    const withFolder = base.replace(
      '    manifests: .lakehouse/manifests\n\n  # The cloud',
      "    databricks: { workspaceFolder: '${env:LAKEHOUSE_TEST_FOLDER}' }\n    manifests: .lakehouse/manifests\n\n  # The cloud",
    );
    process.env.LAKEHOUSE_TEST_FOLDER = '/Shared/from-env';
    try {
      // Every profile of the file is validated; the reference is not mistaken for a relative path.
      expect(parse(withFolder).profile.sql.engine).toBe('pglite');
      const resolved = parseConfig(withFolder, '/project/lakehouse.yml', 'local', {
        resolve: ['databricks'],
      });
      expect(resolved.profile.databricks?.workspaceFolder).toBe('/Shared/from-env');
    } finally {
      delete process.env.LAKEHOUSE_TEST_FOLDER;
    }
  });

  it('points at YAML syntax errors', () => {
    expect(errorOf('project: x\n  bad: [')).toMatch(/^lakehouse.yml:\d+:\d+: invalid YAML: /);
  });

  describe('the databricks section’s credentials', () => {
    const withDatabricks = (section: string) =>
      base.replace(
        '    manifests: .lakehouse/manifests\n\n  # The cloud',
        `    databricks: { host: x, ${section} }\n    manifests: .lakehouse/manifests\n\n  # The cloud`,
      );
    const resolveDatabricks = (section: string) =>
      parseConfig(withDatabricks(section), '/project/lakehouse.yml', undefined, { resolve: ['databricks'] })
        .profile.databricks!;

    it('takes a client id and secret (oauth-m2m), the secret only from the environment, and redacts it', () => {
      process.env.TEST_DBX_CLIENT_SECRET = 'dose-config-client-secret-424242';
      const section = resolveDatabricks("clientId: sp-app-id, clientSecret: '${env:TEST_DBX_CLIENT_SECRET}'");
      expect(authFromSettings(section, 'profiles.local.databricks')).toEqual({
        kind: 'oauth-m2m',
        clientId: 'sp-app-id',
        clientSecret: 'dose-config-client-secret-424242',
      });
      expect(redact('secret dose-config-client-secret-424242')).toBe('secret ***');
      expect(errorOf(withDatabricks('clientId: sp-app-id, clientSecret: dose-inline'))).toBe(
        'lakehouse.yml:51: profiles.local.databricks.clientSecret: expected a reference to an environment variable like ${env:NAME}, found a literal secret (secrets must come from the environment)',
      );
    });

    it('chooses pat for a token and github-oidc when asked, with or without a client id', () => {
      process.env.TEST_DBX_TOKEN = 'dapi-config-token-1234';
      expect(authFromSettings(resolveDatabricks("token: '${env:TEST_DBX_TOKEN}'"), 'p')).toEqual({
        kind: 'pat',
        token: 'dapi-config-token-1234',
      });
      const oidc = authFromSettings(
        resolveDatabricks('auth: github-oidc, clientId: sp-app-id, oidcAudience: my-account-id'),
        'p',
      );
      expect(oidc).toMatchObject({ kind: 'github-oidc', clientId: 'sp-app-id', audience: 'my-account-id' });
      expect(authFromSettings(resolveDatabricks('auth: github-oidc'), 'p')).toMatchObject({
        kind: 'github-oidc',
        clientId: undefined,
      });
    });

    it.each([
      [
        'auth: oauth',
        /^lakehouse.yml:\d+: profiles.local.databricks.auth: expected one of "pat", "oauth-m2m", "github-oidc", found "oauth"$/,
      ],
      [
        "auth: github-oidc, token: '${env:T}'",
        /^lakehouse.yml:\d+: profiles.local.databricks.token: expected no token with auth: github-oidc \(a token is for auth: pat\)$/,
      ],
      [
        "auth: github-oidc, clientId: a, clientSecret: '${env:S}'",
        /: profiles.local.databricks.clientSecret: expected no clientSecret with auth: github-oidc \(a client secret is for auth: oauth-m2m\)$/,
      ],
      [
        "token: '${env:T}', clientId: a, clientSecret: '${env:S}'",
        /: profiles.local.databricks.auth: expected auth: pat or auth: oauth-m2m, because both token and clientSecret are set$/,
      ],
      [
        "clientSecret: '${env:S}'",
        /: profiles.local.databricks.clientId: expected the client id that goes with clientSecret, found nothing$/,
      ],
      [
        "auth: pat, clientId: a, token: '${env:T}'",
        /: profiles.local.databricks.clientId: expected no clientId with auth: pat/,
      ],
      [
        'oidcAudience: x',
        /: profiles.local.databricks.oidcAudience: expected oidcAudience only with auth: github-oidc$/,
      ],
    ])('refuses credentials that do not go together: %s', (section, message) => {
      expect(errorOf(withDatabricks(section))).toMatch(message);
    });

    it('names the key that is missing for the way of signing in', () => {
      expect(() => authFromSettings({ auth: 'oauth-m2m', clientId: 'a' }, 'profiles.gcp.databricks')).toThrow(
        "profiles.gcp.databricks.clientSecret: expected the service principal's OAuth secret (as ${env:DATABRICKS_CLIENT_SECRET}) for auth: oauth-m2m, found nothing",
      );
      expect(() => authFromSettings({}, 'profiles.gcp.databricks')).toThrow(
        'profiles.gcp.databricks: expected token (a personal access token as ${env:DATABRICKS_TOKEN}), clientId and clientSecret (OAuth M2M), or auth: github-oidc, found none of them',
      );
    });
  });
});

/** The 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  expect(index, needle).toBeGreaterThanOrEqual(0);
  return index + 1;
}

describe('lakehouse.yml: every mistake at once', () => {
  it('reports each mistake on its own line, in the order of the file, then how many', () => {
    const text = base
      .replace('type: integer', 'type: int')
      .replace('port: 3000', 'port: three thousand')
      .replace('    format: csv', '    format: csv\n    fromat: csv')
      .replace(
        'sql: { engine: pglite, path: .lakehouse/pglite }',
        "sql: { engine: postgres, connection: 'postgres://:pw@host/db?user=x' }",
      );
    expect(mistakesOf(text)).toEqual([
      `lakehouse.yml:${lineOf(text, '  - name: transactions')}: datasets[0]: unknown key "fromat" (check the spelling; see the config reference in README.md)`,
      `lakehouse.yml:${lineOf(text, 'type: int,')}: datasets[0].columns[0].type: expected one of string, integer, double, boolean, date, timestamp or decimal(precision,scale), found "int"`,
      `lakehouse.yml:${lineOf(text, 'port: three')}: app.port: expected number, found "three thousand"`,
      `lakehouse.yml:${lineOf(text, 'postgres://:pw')}: profiles.local.sql.connection: expected a reference to an environment variable like \${env:NAME}, found a literal secret (secrets must come from the environment)`,
      '4 mistakes in lakehouse.yml',
    ]);
  });
});

describe('lakehouse.yml: no password in a connection', () => {
  process.env.LAKEHOUSE_TEST_PW = 'pw-from-the-environment';
  const withConnection = (connection: string) =>
    base.replace(
      'sql: { engine: pglite, path: .lakehouse/pglite }',
      `sql: { engine: postgres, connection: '${connection}' }`,
    );
  const refused = (connection: string) =>
    `lakehouse.yml:${lineOf(withConnection(connection), connection)}: profiles.local.sql.connection: expected a reference to an environment variable like \${env:NAME}, found a literal secret (secrets must come from the environment)`;

  it.each([
    'postgres://:pw@host/db?user=x',
    'mysql://u:pw@h',
    'postgres://u@h/db?sslmode=require&password=pw',
    'Server=db;Database=x;User Id=sa;Password=hunter22',
    'Server=db;Pwd={abc};Database=x',
    'postgres://u:${env:LAKEHOUSE_TEST_PW}x@h/db',
  ])('refuses %s', (connection) => {
    expect(errorOf(withConnection(connection))).toBe(refused(connection));
  });

  it.each([
    'postgres://u:${env:LAKEHOUSE_TEST_PW}@h/db',
    'Server=db;User Id=sa;Password=${env:LAKEHOUSE_TEST_PW}',
    'postgres://u@h:5432/db?sslmode=require',
  ])('accepts %s', (connection) => {
    expect(parse(withConnection(connection)).profile.sql.engine).toBe('postgres');
  });

  it('refuses a password in any URL of the file, not only the connection', () => {
    const text = base.replace(
      '    manifests: .lakehouse/manifests\n\n  # The cloud',
      "    render: { serviceId: srv-abc, apiKey: '${env:K}', apiUrl: 'https://me:pw@proxy.example/render' }\n    manifests: .lakehouse/manifests\n\n  # The cloud",
    );
    expect(errorOf(text)).toBe(
      `lakehouse.yml:${lineOf(text, 'apiUrl')}: profiles.local.render.apiUrl: expected a reference to an environment variable like \${env:NAME}, found a literal secret (secrets must come from the environment)`,
    );
  });
});

describe('lakehouse.yml: written folders stay in the project', () => {
  const local = (over: string) =>
    base.replace(
      '    bucket: file://.lakehouse/bucket\n    sql: { engine: pglite, path: .lakehouse/pglite }\n    delta: .lakehouse/delta\n',
      over,
    );

  it('refuses a file:// bucket, Delta, manifests or PGlite folder outside the project, each named', () => {
    const text = local(
      '    bucket: file://../elsewhere\n    sql: { engine: pglite, path: /var/tmp/pglite }\n    delta: .lakehouse/delta\n',
    ).replace(
      '    manifests: .lakehouse/manifests\n\n  # The cloud',
      '    manifests: ../../manifests\n\n  # The cloud',
    );
    expect(mistakesOf(text)).toEqual([
      `lakehouse.yml:${lineOf(text, 'file://../elsewhere')}: profiles.local.bucket: expected a folder inside the project (/project), found "file://../elsewhere", which is /elsewhere (set allowOutsideProject: true on the profile to write there)`,
      `lakehouse.yml:${lineOf(text, '/var/tmp/pglite')}: profiles.local.sql.path: expected a folder inside the project (/project), found "/var/tmp/pglite", which is /var/tmp/pglite (set allowOutsideProject: true on the profile to write there)`,
      `lakehouse.yml:${lineOf(text, '../../manifests')}: profiles.local.manifests: expected a folder inside the project (/project), found "../../manifests", which is /manifests (set allowOutsideProject: true on the profile to write there)`,
      '3 mistakes in lakehouse.yml',
    ]);
  });

  it('accepts folders inside the project, absolute ones too, and outside ones when the profile allows it', () => {
    expect(
      parse(
        local(
          '    bucket: file:///project/data/bucket\n    sql: { engine: pglite, path: p }\n    delta: ./d\n',
        ),
      ).profile.bucket,
    ).toBe('file:///project/data/bucket');
    const allowed = parse(
      local(
        '    allowOutsideProject: true\n    bucket: file://../shared-bucket\n    sql: { engine: pglite, path: p }\n    delta: /data/delta\n',
      ),
    );
    expect(allowed.profile).toMatchObject({ bucket: 'file://../shared-bucket', delta: '/data/delta' });
    // A gs:// bucket and a sibling folder whose name starts like the project's are told apart.
    expect(
      errorOf(
        local('    bucket: file:///project-other\n    sql: { engine: pglite, path: p }\n    delta: d\n'),
      ),
    ).toMatch(
      /profiles.local.bucket: expected a folder inside the project \(\/project\), found "file:\/\/\/project-other"/,
    );
  });
});
