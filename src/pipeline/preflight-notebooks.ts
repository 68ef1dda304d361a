// The transform's part of the preflight: every notebook exists, parses and holds only statement forms the runner
// knows; every parameter a notebook uses has a value, and each value fits the type the notebook casts it to.
import { describeValue } from '../config/issues.ts';
import { parameterDeclarations, parameterTypeProblem, parameterUses } from '../notebooks/parameter-types.ts';
import type { NotebookParams } from '../notebooks/params.ts';
import { describeLocation, NotebookError, readNotebook, type Notebook } from '../notebooks/parser.ts';
import { classifyStatement, StatementFormError } from '../notebooks/statements.ts';
import { count } from '../util/format.ts';

export interface NotebookCheck {
  /** What was found right, for the log. */
  checked: string;
  problems: string[];
}

export async function checkNotebooks(files: string[], params: NotebookParams): Promise<NotebookCheck> {
  const problems: string[] = [];
  const notebooks: Notebook[] = [];
  for (const file of files) {
    try {
      const notebook = await readNotebook(file);
      problems.push(...statementProblems(notebook));
      notebooks.push(notebook);
    } catch (e) {
      if (!(e instanceof NotebookError)) throw e;
      problems.push(e.message);
    }
  }
  const { typed, parameterProblems } = checkParameters(notebooks, params);
  problems.push(...parameterProblems);
  const checked = `${count(files.length, 'notebook')} ${files.length === 1 ? 'parses' : 'parse'}; ${count(Object.keys(params).length, 'parameter')} given, ${formatTyped(typed)}`;
  return { checked, problems };
}

function formatTyped(typed: number): string {
  return typed
    ? `${typed} of them typed by the notebooks and fitting their types`
    : 'none typed by the notebooks';
}

/** Statements outside the forms the local runner executes: found now rather than after ingest and load. */
function statementProblems(notebook: Notebook): string[] {
  const problems: string[] = [];
  for (const cell of notebook.cells)
    for (const statement of cell.statements) {
      try {
        classifyStatement(statement.tokens);
      } catch (e) {
        if (!(e instanceof StatementFormError)) throw e;
        const where = { notebook: notebook.path, cell: { index: cell.index, title: cell.title } };
        problems.push(`${describeLocation({ ...where, line: e.line ?? statement.line })}: ${e.message}`);
      }
    }
  return problems;
}

/** Parameters used without a value, and values that do not fit the type a notebook casts them to. */
function checkParameters(
  notebooks: Notebook[],
  params: NotebookParams,
): { typed: number; parameterProblems: string[] } {
  const problems: string[] = [];
  const given = Object.keys(params);
  for (const notebook of notebooks) {
    const missing = new Map(parameterUses(notebook).map((u) => [u.name, u.line]));
    for (const [name, line] of missing)
      if (!Object.hasOwn(params, name))
        problems.push(
          `${notebook.path} (line ${line}): parameter :${name} has no value (parameters given: ${given.length ? given.join(', ') : 'none'}; set it under transform.parameters or with --param ${name}=…)`,
        );
  }
  const typed = new Set<string>();
  const told = new Set<string>();
  for (const declared of notebooks.flatMap(parameterDeclarations)) {
    if (!Object.hasOwn(params, declared.name)) continue;
    typed.add(declared.name);
    const value = params[declared.name]!;
    const expected = parameterTypeProblem(value, declared.type);
    // One problem per parameter and notebook, at its first cast, however often the notebook casts it.
    const key = `${declared.notebook}\0${declared.name}`;
    if (expected && !told.has(key) && told.add(key))
      problems.push(
        `${declared.notebook} (line ${declared.line}): parameter :${declared.name}: expected ${expected} (the notebook reads it as CAST(:${declared.name} AS ${declared.type})), found ${describeValue(typeof value === 'bigint' ? Number(value) : value)}`,
      );
  }
  return { typed: typed.size, parameterProblems: problems };
}
