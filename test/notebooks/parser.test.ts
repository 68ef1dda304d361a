import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/notebooks/lexer.ts';
import { NotebookError, parseNotebook, readNotebook, splitStatements } from '../../src/notebooks/parser.ts';
import { allNotebooks } from './helpers.ts';

const SEP = '\n\n-- COMMAND ----------\n\n';
const notebook = (...cells: string[]) => `-- Databricks notebook source\n${cells.join(SEP)}\n`;

function errorOf(fn: () => unknown): NotebookError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NotebookError) return e;
    throw e;
  }
  throw new Error('expected a NotebookError');
}

describe('parseNotebook', () => {
  it('splits cells, reads titles and skips markdown', () => {
    const nb = parseNotebook(
      notebook(
        "-- MAGIC %md\n-- MAGIC # Title\n-- MAGIC text with ; and 'quotes",
        '-- DBTITLE 1,Make a table\nCREATE OR REPLACE TABLE s.t AS SELECT 1 AS x;\nSELECT * FROM s.t',
        'SELECT 2',
      ),
      'nb.sql',
    );
    expect(nb.cells.map((c) => [c.index, c.kind, c.title, c.statements.length])).toEqual([
      [1, 'markdown', undefined, 0],
      [2, 'sql', 'Make a table', 2],
      [3, 'sql', undefined, 1],
    ]);
    expect(nb.cells[1]!.statements.map((s) => [s.sql, s.line])).toEqual([
      ['CREATE OR REPLACE TABLE s.t AS SELECT 1 AS x', 9],
      ['SELECT * FROM s.t', 10],
    ]);
    expect(nb.cells.map((c) => c.line)).toEqual([2, 8, 14]);
  });

  it('reads CRLF files and a byte-order mark', () => {
    const nb = parseNotebook('\uFEFF' + notebook('SELECT 1', 'SELECT 2').replaceAll('\n', '\r\n'), 'nb.sql');
    expect(nb.cells.flatMap((c) => c.statements.map((s) => s.sql))).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('runs a %sql MAGIC cell as SQL', () => {
    const nb = parseNotebook(notebook('-- MAGIC %sql\n-- MAGIC SELECT 1;\n-- MAGIC SELECT 2'), 'nb.sql');
    expect(nb.cells[0]!.statements.map((s) => s.sql)).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('drops empty cells and statements that are only comments', () => {
    const nb = parseNotebook(notebook('', '-- just a note\n;', 'SELECT 1'), 'nb.sql');
    expect(nb.cells.map((c) => [c.index, c.statements.length])).toEqual([
      [2, 0],
      [3, 1],
    ]);
  });

  it('rejects a file without the Databricks header', () => {
    const e = errorOf(() => parseNotebook('SELECT 1', 'plain.sql'));
    expect(e.message).toBe(
      "plain.sql (line 1): expected the first line to be '-- Databricks notebook source' (a Databricks SQL notebook in SOURCE format), found 'SELECT 1'",
    );
  });

  it('rejects non-SQL cells, naming the cell and its title', () => {
    const e = errorOf(() =>
      parseNotebook(notebook('SELECT 1', '-- DBTITLE 1,Plot\n-- MAGIC %python\n-- MAGIC print(1)'), 'nb.sql'),
    );
    expect(e.message).toMatch(
      /^nb\.sql, cell 2 "Plot" \(line 7\): expected a SQL or %md cell, found %python/,
    );
    expect(e.where.cell).toEqual({ index: 2, title: 'Plot' });
  });

  it('rejects a cell that mixes MAGIC lines and SQL', () => {
    const e = errorOf(() => parseNotebook(notebook('-- MAGIC %md\n-- MAGIC # x\nSELECT 1'), 'nb.sql'));
    expect(e.message).toMatch(
      /^nb\.sql, cell 1 \(line 4\): a cell written with '-- MAGIC' lines must have only such lines, found 'SELECT 1'/,
    );
  });

  it('names the notebook, cell and line of an unterminated string or comment', () => {
    const s = errorOf(() =>
      parseNotebook(notebook('SELECT 1', "-- DBTITLE 1,Broken\nSELECT 1;\nSELECT 'oops"), 'nb.sql'),
    );
    expect(s.message).toBe('nb.sql, cell 2 "Broken" (line 8): unterminated string literal');
    const c = errorOf(() => parseNotebook(notebook('SELECT 1 /* never closed'), 'nb.sql'));
    expect(c.message).toBe('nb.sql, cell 1 (line 2): unterminated /* comment */');
    const q = errorOf(() => parseNotebook(notebook('SELECT `x'), 'nb.sql'));
    expect(q.message).toMatch(/^nb\.sql, cell 1 \(line 2\): unterminated `quoted` name/);
  });

  it('rejects a backslash before a quote, which the two engines read differently', () => {
    const e = errorOf(() => parseNotebook(notebook("SELECT 'it\\'s'"), 'nb.sql'));
    expect(e.message).toMatch(
      /^nb\.sql, cell 1 \(line 2\): string literal 'it\\'… has a backslash before a quote/,
    );
  });

  it('rejects JSON path syntax, which looks like a parameter', () => {
    const e = errorOf(() => parseNotebook(notebook('SELECT raw:owner FROM t'), 'nb.sql'));
    expect(e.message).toMatch(
      /^nb\.sql, cell 1 \(line 2\): 'w:owner FROM…': a ':' right after a name is JSON path syntax/,
    );
  });

  it('reports a missing file with its path', async () => {
    await expect(readNotebook('/nonexistent/nb.sql')).rejects.toThrow(
      /^\/nonexistent\/nb\.sql: cannot read the notebook \(ENOENT/,
    );
  });

  it('reads a notebook from disk with its path relative to the working directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-'));
    const file = path.join(dir, 'x.sql');
    fs.writeFileSync(file, notebook('SELECT 1'));
    const nb = await readNotebook(file);
    expect(nb.path).toBe(path.relative(process.cwd(), file));
    fs.rmSync(dir, { recursive: true });
  });

  it('parses every notebook in notebooks/', async () => {
    expect(allNotebooks.length).toBeGreaterThanOrEqual(4);
    for (const file of allNotebooks) {
      const nb = await readNotebook(file);
      expect(nb.cells.some((c) => c.kind === 'sql' && c.statements.length > 0)).toBe(true);
    }
  });
});

describe('splitStatements', () => {
  it('splits at semicolons outside strings, quoted names and comments', () => {
    const sql = [
      'SELECT \'a;b\' AS `x;y`, "c;d" -- note; here',
      '/* block; comment */ SELECT 2;',
      "SELECT 'it''s; fine'",
    ].join('\n');
    expect(splitStatements(sql).map((s) => s.sql)).toEqual([
      'SELECT \'a;b\' AS `x;y`, "c;d" -- note; here\n/* block; comment */ SELECT 2',
      "SELECT 'it''s; fine'",
    ]);
  });

  it('gives each statement the line of its first token', () => {
    expect(splitStatements('\n\n-- lead comment\nSELECT 1;\n\nSELECT\n2', 10).map((s) => s.line)).toEqual([
      13, 15,
    ]);
  });
});

describe('tokenize', () => {
  it('recognises parameter markers, casts and numbers', () => {
    const kinds = tokenize("x >= :min_support AND y::INT = 1.5e-3 AND CASE :metric WHEN 'a:b' THEN 1 END")
      .filter((t) => t.kind !== 'space')
      .map((t) => `${t.kind}:${t.text}`);
    expect(kinds).toEqual([
      'word:x',
      'symbol:>',
      'symbol:=',
      'param::min_support',
      'word:AND',
      'word:y',
      'symbol:::',
      'word:INT',
      'symbol:=',
      'number:1.5e-3',
      'word:AND',
      'word:CASE',
      'param::metric',
      'word:WHEN',
      "string:'a:b'",
      'word:THEN',
      'number:1',
      'word:END',
    ]);
  });
});
