// actions/upload-artifact and actions/download-artifact (v4) on the run's artifact store, with their path rules.
import path from 'node:path';
import { globFiles } from '../glob.ts';
import type { StepCall, StepDone } from '../runtime.ts';
import { booleanInput, failed, setOutput, type Standin } from './io.ts';

export const uploadArtifact: Standin = {
  action: 'actions/upload-artifact',
  onGitHub:
    'finds the files of `path` (one pattern a line, `!` excludes, hidden files left out unless include-hidden-files) and stores them as the named artifact of the run: with several search paths the root is their least common ancestor, one file given by its path is stored under its own name, a folder’s files relative to it; if-no-files-found says warn (default), error or ignore; a name is taken once per run unless overwrite.',
  here: 'the same search and root rules (those of @actions/glob and upload-artifact’s search.ts), into a folder of the rehearsal run that only download-artifact reads.',
  inputs: [
    'name',
    'path',
    'if-no-files-found',
    'retention-days',
    'compression-level',
    'overwrite',
    'include-hidden-files',
    'archive',
  ],
  run: async (call) => upload(call),
};

export const downloadArtifact: Standin = {
  action: 'actions/download-artifact',
  onGitHub:
    'downloads the named artifact of the run and extracts its files into `path` (default the workspace); without a name, every artifact into `path/<name>/` (or merged with merge-multiple); a missing name fails the step.',
  here: 'the same, from the rehearsal run’s artifact store.',
  inputs: [
    'name',
    'artifact-ids',
    'path',
    'pattern',
    'merge-multiple',
    'github-token',
    'repository',
    'run-id',
  ],
  run: async (call) => download(call),
};

function upload(call: StepCall): StepDone {
  const { runtime: rt, inputs } = call;
  const name = inputs.name || 'artifact';
  const searchPath = inputs.path ?? '';
  if (!searchPath.trim()) return failed(call, 'Input required and not supplied: path');
  const ifNone = inputs['if-no-files-found'] || 'warn';
  if (!['warn', 'error', 'ignore'].includes(ifNone))
    return failed(
      call,
      `Unrecognized if-no-files-found input. Provided: ${ifNone}. Available options: warn,error,ignore`,
    );
  const found = globFiles(searchPath, rt.place.workspace, {
    excludeHidden: !booleanInput(call, 'include-hidden-files', false),
  });
  if (found.files.length === 0) {
    const message = `No files were found with the provided path: ${searchPath}. No artifacts will be uploaded.`;
    if (ifNone === 'error') return failed(call, message);
    if (ifNone === 'warn') call.io.annotations.push({ level: 'warning', message });
    call.io.log(message);
    return { ok: true };
  }
  const root = artifactRoot(found.files, found.searchPaths);
  const info = rt.run.artifacts.upload(
    name,
    found.files,
    root,
    rt.job.id,
    booleanInput(call, 'overwrite', false),
  );
  call.io.log(`Artifact ${name}: ${info.files.length} file(s) from root ${root}: ${info.files.join(', ')}`);
  setOutput(call, 'artifact-id', String(rt.run.artifacts.names().indexOf(name) + 1));
  setOutput(
    call,
    'artifact-url',
    `https://github.com/${rt.run.repository}/actions/runs/${rt.run.runId}/artifacts`,
  );
  return { ok: true };
}

/** upload-artifact's rule: several search paths → their least common ancestor; one file given as is → its folder. */
export function artifactRoot(files: string[], searchPaths: string[]): string {
  if (searchPaths.length > 1) {
    const split = searchPaths.map((p) => path.normalize(p).split(path.sep));
    const common: string[] = [];
    for (let i = 0; i < Math.min(...split.map((s) => s.length)); i++) {
      if (split.some((s) => s[i] !== split[0]![i])) break;
      common.push(split[0]![i]!);
    }
    return common.join(path.sep) || path.sep;
  }
  if (files.length === 1 && searchPaths[0] === files[0]) return path.dirname(files[0]!);
  return searchPaths[0]!;
}

function download(call: StepCall): StepDone {
  const { runtime: rt, inputs } = call;
  const destination = path.resolve(rt.place.workspace, inputs.path || '.');
  const needed = upstreamJobs(rt);
  const names = inputs.name ? [inputs.name] : rt.run.artifacts.names(needed);
  const merge = booleanInput(call, 'merge-multiple', false);
  try {
    for (const name of names) {
      const into = inputs.name || merge ? destination : path.join(destination, name);
      const files = rt.run.artifacts.download(name, into, rt.job.id, needed);
      call.io.log(
        `Artifact ${name}: ${files.length} file(s) into ${into}: ${files.map((f) => path.relative(rt.place.workspace, f)).join(', ')}`,
      );
    }
  } catch (e) {
    return failed(call, e instanceof Error ? e.message : String(e));
  }
  setOutput(call, 'download-path', destination);
  return { ok: true };
}

/** The jobs this job needs, directly or through others. */
function upstreamJobs(rt: StepCall['runtime']): Set<string> {
  const byId = new Map(rt.run.workflow.jobs.map((j) => [j.id, j]));
  const found = new Set<string>();
  const visit = (id: string) => {
    for (const need of byId.get(id)?.model.needs ?? [])
      if (!found.has(need.value)) {
        found.add(need.value);
        visit(need.value);
      }
  };
  visit(rt.job.id);
  return found;
}
