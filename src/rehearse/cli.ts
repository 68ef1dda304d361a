// The `rehearse` subcommand of `lakehouse`: options in, the rehearsal printed, exit code 1 when the workflow
// fails (or cannot start).
import { Command, Option } from 'commander';
import { formatRehearsal } from './report.ts';
import { describeStandins } from './standins/index.ts';
import { EVENT_ALIASES } from './triggers.ts';

function pair(option: string) {
  return (value: string, previous: Record<string, string> = {}) => {
    const match = /^([^=]+)=(.*)$/s.exec(value);
    if (!match) throw new Error(`${option}: expected name=value, found ${JSON.stringify(value)}`);
    return { ...previous, [match[1]!]: match[2]! };
  };
}

const list = (value: string, previous: string[] = []) => [...previous, value];

export function createRehearseCommand(): Command {
  return new Command('rehearse')
    .description(
      'run a workflow of this repository on this machine as GitHub would: GitHub’s parser and expressions, a fresh clone per job, our actions from dist/, stand-ins for third-party actions and the cloud',
    )
    .argument('<workflow>', 'the workflow file, e.g. .github/workflows/pipeline.yml')
    .addOption(
      new Option('--event <event>', 'the event that starts it')
        .choices(['dispatch', 'schedule', 'push'])
        .default('dispatch'),
    )
    .option('--input <name=value>', 'a workflow_dispatch input (repeatable)', pair('--input'), {})
    .option(
      '--changed <path>',
      'a path the push changed (repeatable; default: what the commit changes)',
      list,
    )
    .option('--branch <name>', 'the branch the event is on', 'main')
    .option(
      '--var <name=value>',
      'a repository variable over the made-up ones ("" unsets it; repeatable)',
      pair('--var'),
      {},
    )
    .option('--secret <name=value>', 'a secret over the made-up ones (repeatable)', pair('--secret'), {})
    .option(
      '--state <folder>',
      'keep the cloud (bucket, SQL schema, Delta tables) in this folder: a later rehearsal given it continues from there',
    )
    .option('--keep-workspaces', 'keep each job’s workspace in the run folder', false)
    .option(
      '--called-repository <folder>',
      'the repository a job’s `uses: <owner>/<repo>/.github/workflows/x.yml@ref` is read from (default: this one)',
    )
    .addHelpText('after', `\nThird-party actions and their stand-ins:\n${describeStandins()}`)
    .action(
      async (
        workflow: string,
        o: {
          event: string;
          input: Record<string, string>;
          changed?: string[];
          branch: string;
          var: Record<string, string>;
          secret: Record<string, string>;
          keepWorkspaces: boolean;
          state?: string;
          calledRepository?: string;
        },
      ) => {
        // The engine loads only when a rehearsal runs, not with every `lakehouse` command.
        const { rehearse } = await import('./rehearse.ts');
        const result = await rehearse({
          workflow,
          event: EVENT_ALIASES[o.event]!,
          inputs: o.input,
          changed: o.changed,
          branch: o.branch,
          vars: o.var,
          secrets: o.secret,
          keepWorkspaces: o.keepWorkspaces,
          stateDir: o.state,
          calledRepository: o.calledRepository,
          onJob: (job) => console.error(`${job.id}: ${job.state}`),
        });
        console.log(formatRehearsal(result));
        if (result.state === 'failure') process.exitCode = 1;
      },
    );
}
