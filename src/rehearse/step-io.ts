// One step's exchange with the runner: fresh file-command files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH,
// GITHUB_STATE, GITHUB_STEP_SUMMARY) in the job's temporary folder, as the runner makes them for each step; the
// workflow commands on its output; and its log, masked, in the run folder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Masker, parseFileCommand, parseWorkflowCommand } from './commands.ts';

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
}

export interface StepExchange {
  outputs: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  state: Record<string, string>;
  summary: string;
}

const FILES = {
  GITHUB_OUTPUT: 'set_output',
  GITHUB_ENV: 'set_env',
  GITHUB_PATH: 'add_path',
  GITHUB_STATE: 'save_state',
  GITHUB_STEP_SUMMARY: 'step_summary',
} as const;

export class StepIo {
  readonly annotations: Annotation[] = [];
  readonly files: Record<keyof typeof FILES, string>;
  private readonly commandState: Record<string, string> = {};
  private readonly commandOutputs: Record<string, string> = {};
  private readonly commandPath: string[] = [];
  private stopToken: string | undefined;

  readonly logFile: string;
  private readonly masker: Masker;
  private readonly debug: boolean;

  constructor(commandsDir: string, logFile: string, masker: Masker, debug = false) {
    this.logFile = logFile;
    this.masker = masker;
    this.debug = debug;
    fs.mkdirSync(commandsDir, { recursive: true });
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const id = crypto.randomUUID();
    this.files = Object.fromEntries(
      Object.entries(FILES).map(([variable, stem]) => {
        const file = path.join(commandsDir, `${stem}_${id}`);
        fs.writeFileSync(file, '');
        return [variable, file];
      }),
    ) as StepIo['files'];
  }

  log(line: string): void {
    fs.appendFileSync(this.logFile, `${this.masker.mask(line)}\n`);
  }

  error(message: string): void {
    this.annotations.push({ level: 'error', message: this.masker.mask(message) });
    this.log(`##[error]${message}`);
  }

  /** One line of the step's output: a workflow command is carried out, every line is logged (masked). */
  readonly onLine = (line: string): void => {
    const command = this.stopToken ? undefined : parseWorkflowCommand(line);
    if (this.stopToken && line.trim() === `::${this.stopToken}::`) this.stopToken = undefined;
    if (command?.command === 'add-mask') {
      this.masker.add(command.message);
      this.log('::add-mask::***');
      return;
    }
    this.log(line);
    if (!command) return;
    const { command: name, properties, message } = command;
    if (name === 'error' || name === 'warning' || name === 'notice')
      this.annotations.push({ level: name, message: this.masker.mask(message) });
    else if (name === 'save-state' && properties.name) this.commandState[properties.name] = message;
    else if (name === 'set-output' && properties.name) this.commandOutputs[properties.name] = message;
    else if (name === 'add-path') this.commandPath.push(message);
    else if (name === 'stop-commands') this.stopToken = message;
    else if (name === 'set-env')
      this.error('The `set-env` command is disabled. Please upgrade to using Environment Files.');
    else if (name === 'debug' && this.debug) this.log(`##[debug]${message}`);
  };

  /** What the step left in its files (read after it ends); a malformed file is an error of the step. */
  collect(): StepExchange {
    const read = (variable: keyof typeof FILES) => fs.readFileSync(this.files[variable], 'utf8');
    return {
      outputs: { ...this.commandOutputs, ...parseFileCommand(read('GITHUB_OUTPUT'), 'GITHUB_OUTPUT') },
      env: parseFileCommand(read('GITHUB_ENV'), 'GITHUB_ENV'),
      path: [
        ...this.commandPath,
        ...read('GITHUB_PATH')
          .split(/\r?\n/)
          .filter((l) => l.trim()),
      ],
      state: { ...this.commandState, ...parseFileCommand(read('GITHUB_STATE'), 'GITHUB_STATE') },
      summary: this.masker.mask(read('GITHUB_STEP_SUMMARY')),
    };
  }
}
