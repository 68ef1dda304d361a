// Databricks SQL notebooks in SOURCE format: a header line, cells separated by
// `-- COMMAND ----------`, non-SQL cells written as `-- MAGIC` lines, optional `-- DBTITLE` titles.
// The parser turns a notebook into cells and each SQL cell into statements; every error says
// which notebook, cell and line it is about.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isSignificant, joinTokens, SqlSyntaxError, tokenize, type Token } from './lexer.ts';

export const NOTEBOOK_HEADER = '-- Databricks notebook source';
const separator = /^-- COMMAND -{10}\s*$/;
const titleLine = /^-- DBTITLE \d+,(.*)$/;
const magicLine = /^-- MAGIC( (.*))?$/;

export interface NotebookStatement {
  /** The statement's text, without the closing `;`. */
  sql: string;
  tokens: Token[];
  /** 1-based line in the notebook file where the statement starts. */
  line: number;
}

export interface NotebookCell {
  /** 1-based position among all cells, as Databricks shows them. */
  index: number;
  title?: string;
  kind: 'sql' | 'markdown';
  /** 1-based line in the notebook file of the cell's first non-blank line. */
  line: number;
  statements: NotebookStatement[];
}

export interface Notebook {
  path: string;
  cells: NotebookCell[];
}

export interface NotebookLocation {
  notebook: string;
  cell?: { index: number; title?: string };
  line?: number;
}

export function describeLocation(where: NotebookLocation): string {
  let text = where.notebook;
  if (where.cell) {
    text += `, cell ${where.cell.index}`;
    if (where.cell.title) text += ` "${where.cell.title}"`;
  }
  if (where.line !== undefined) text += ` (line ${where.line})`;
  return text;
}

/** Any problem with a notebook: the message starts with the notebook, cell and line. */
export class NotebookError extends Error {
  readonly where: NotebookLocation;
  readonly detail: string;
  constructor(where: NotebookLocation, detail: string, options?: ErrorOptions) {
    super(`${describeLocation(where)}: ${detail}`, options);
    this.name = 'NotebookError';
    this.where = where;
    this.detail = detail;
  }
}

export async function readNotebook(file: string): Promise<Notebook> {
  const text = await fs.readFile(file, 'utf8').catch((e: unknown) => {
    throw new NotebookError(
      { notebook: file },
      `cannot read the notebook (${e instanceof Error ? e.message : String(e)})`,
    );
  });
  return parseNotebook(text, file);
}

export function parseNotebook(text: string, file: string): Notebook {
  const notebook = path.relative(process.cwd(), file) || file;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trimEnd() !== NOTEBOOK_HEADER) {
    throw new NotebookError(
      { notebook, line: 1 },
      `expected the first line to be '${NOTEBOOK_HEADER}' (a Databricks SQL notebook in SOURCE format), found '${(lines[0] ?? '').slice(0, 60)}'`,
    );
  }
  const cells: NotebookCell[] = [];
  let start = 1; // 0-based index of the first line of the current cell
  let position = 0; // empty cells count too, as Databricks shows them
  for (let i = 1; i <= lines.length; i++) {
    if (i === lines.length || separator.test(lines[i]!)) {
      const cell = parseCell(lines.slice(start, i), start + 1, ++position, notebook);
      if (cell) cells.push(cell);
      start = i + 1;
    }
  }
  return { path: notebook, cells };
}

function parseCell(
  lines: string[],
  firstLine: number,
  index: number,
  notebook: string,
): NotebookCell | undefined {
  let offset = lines.findIndex((l) => l.trim() !== '');
  if (offset === -1) return undefined;
  const cellLine = firstLine + offset;
  let title: string | undefined;
  const titled = titleLine.exec(lines[offset]!);
  if (titled) {
    title = titled[1]!.trim();
    offset++;
  }
  const body = lines.slice(offset);
  const bodyLine = firstLine + offset;
  const where = { notebook, cell: { index, title } };
  const magic = body.filter((l) => l.startsWith('-- MAGIC'));
  if (magic.length > 0) {
    const stray = body.findIndex((l) => l.trim() !== '' && !magicLine.test(l));
    if (stray !== -1) {
      throw new NotebookError(
        { ...where, line: bodyLine + stray },
        `a cell written with '-- MAGIC' lines must have only such lines, found '${body[stray]!.slice(0, 60)}'`,
      );
    }
    const content = body.map((l) => magicLine.exec(l)?.[2] ?? '');
    const language = /^%(\w+)/.exec(content.find((l) => l.trim() !== '') ?? '')?.[1];
    if (language === 'md') return { index, title, kind: 'markdown', line: cellLine, statements: [] };
    if (language === 'sql') {
      const sqlStart = content.findIndex((l) => l.startsWith('%sql'));
      const sql = [
        ...content.slice(0, sqlStart),
        content[sqlStart]!.slice(4),
        ...content.slice(sqlStart + 1),
      ];
      return sqlCell(sql.join('\n'), bodyLine, index, title, cellLine, notebook);
    }
    throw new NotebookError(
      { ...where, line: bodyLine },
      `expected a SQL or %md cell, found ${language ? `%${language}` : 'MAGIC lines without a language'}: the local runner executes SQL only`,
    );
  }
  return sqlCell(body.join('\n'), bodyLine, index, title, cellLine, notebook);
}

function sqlCell(
  sql: string,
  bodyLine: number,
  index: number,
  title: string | undefined,
  cellLine: number,
  notebook: string,
): NotebookCell {
  const cell = { index, title };
  try {
    return { index, title, kind: 'sql', line: cellLine, statements: splitStatements(sql, bodyLine) };
  } catch (e) {
    if (e instanceof SqlSyntaxError) throw new NotebookError({ notebook, cell, line: e.line }, e.message);
    throw e;
  }
}

/** Splits SQL text at the `;` that are outside strings, quoted names and comments. */
export function splitStatements(sql: string, firstLine = 1): NotebookStatement[] {
  const statements: NotebookStatement[] = [];
  let current: Token[] = [];
  const flush = () => {
    const first = current.find(isSignificant);
    if (first) statements.push({ sql: joinTokens(current), tokens: current, line: first.line });
    current = [];
  };
  for (const token of tokenize(sql, firstLine)) {
    if (token.kind === 'symbol' && token.text === ';') flush();
    else current.push(token);
  }
  flush();
  return statements;
}
