// actions/checkout: a fresh clone of the rehearsed commit into the workspace (or `path` under it).
import path from 'node:path';
import { cloneCommit, git } from '../git.ts';
import { isUnder } from '../glob.ts';
import type { StepCall, StepDone } from '../runtime.ts';
import { booleanInput, failed, setOutput, succeededWithCleanup, type Standin } from './io.ts';

const INPUTS = [
  'repository',
  'ref',
  'token',
  'ssh-key',
  'ssh-known-hosts',
  'ssh-strict',
  'ssh-user',
  'persist-credentials',
  'path',
  'clean',
  'filter',
  'sparse-checkout',
  'sparse-checkout-cone-mode',
  'fetch-depth',
  'fetch-tags',
  'show-progress',
  'lfs',
  'submodules',
  'set-safe-directory',
  'github-server-url',
];

export const checkout: Standin = {
  action: 'actions/checkout',
  onGitHub:
    'fetches the commit the workflow runs on (depth 1 unless fetch-depth says otherwise) into $GITHUB_WORKSPACE or `path` under it; with persist-credentials (the default) it leaves the job token in the local git config until its post step removes it.',
  here: 'clones the rehearsed commit from this repository into the job’s own workspace (origin set to GitHub, the branch checked out, depth as fetch-depth), writes the same extraheader credential with the rehearsal’s token when persist-credentials is true and removes it in a post step, then makes the stand-in changes the cloud stand-ins need (the SQL Server → PostgreSQL switch) and says so.',
  inputs: INPUTS,
  run: async (call) => runCheckout(call),
};

async function runCheckout(call: StepCall): Promise<StepDone> {
  const { run, place } = call.runtime;
  const repository = call.inputs.repository || run.repository;
  const ref = call.inputs.ref;
  // A repository a called workflow names (`<owner>/<repo>/.github/workflows/x.yml@ref`): the folder the
  // rehearsal maps it onto, at that folder's commit, whatever the ref.
  const other = run.repositories?.[repository.toLowerCase()];
  if (!other && repository.toLowerCase() !== run.repository.toLowerCase())
    return failed(call, `actions/checkout: the rehearsal has only ${run.repository}, not ${repository}`);
  if (!other && ref && ![run.commit.sha, run.branch, `refs/heads/${run.branch}`].includes(ref))
    return failed(
      call,
      `actions/checkout: the rehearsal has only the rehearsed commit ${run.commit.sha}, not ref ${ref}`,
    );
  const source = other ?? { repoRoot: run.repoRoot, commit: run.commit };
  const target = path.resolve(place.workspace, call.inputs.path || '.');
  if (target !== place.workspace && !isUnder(target, place.workspace))
    return failed(call, `Repository path '${target}' is not under '${place.workspace}'`);
  const depth = Number(call.inputs['fetch-depth'] || '1');
  cloneCommit(source.repoRoot, source.commit, target, { repository, branch: run.branch, depth });
  call.io.log(
    other
      ? `${repository}${ref ? `@${ref}` : ''} is ${source.repoRoot} here: cloned its commit ${source.commit.sha} (${source.commit.source}) into ${target}`
      : `cloned ${run.commit.sha} (${run.commit.source}) into ${target}`,
  );
  const persist = booleanInput(call, 'persist-credentials', true);
  const header = `http.https://github.com/.extraheader`;
  if (persist) {
    const token = call.inputs.token || call.runtime.place.token;
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    run.masker.add(basic);
    git(['config', '--local', header, `AUTHORIZATION: basic ${basic}`], target);
  }
  run.standins.prepareWorkspace(target);
  setOutput(call, 'ref', `refs/heads/${run.branch}`);
  setOutput(call, 'commit', source.commit.sha);
  if (!persist) return { ok: true };
  return succeededWithCleanup(call, () => git(['config', '--local', '--unset-all', header], target));
}
