// The run's artifact store, as GitHub keeps artifacts for a workflow run (v4): an artifact is a named set of files
// stored relative to the root folder the upload computed; a name is taken once per run (a second upload of the
// same name fails unless it overwrites); a download of a missing name fails naming it.
import fs from 'node:fs';
import path from 'node:path';

export interface ArtifactInfo {
  name: string;
  /** Paths inside the artifact. */
  files: string[];
  bytes: number;
  /** The job that uploaded it. */
  job: string;
}

export class ArtifactStore {
  private readonly artifacts = new Map<string, ArtifactInfo>();

  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  upload(
    name: string,
    files: string[],
    rootDirectory: string,
    job: string,
    overwrite: boolean,
  ): ArtifactInfo {
    if (!/^[^"<>:|*?\\/\r\n]+$/.test(name))
      throw new Error(
        `The artifact name is not valid: ${name}. Contains the following character(s): " : < > | * ? \\ / \\r \\n`,
      );
    if (this.artifacts.has(name) && !overwrite)
      throw new Error(
        `Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run`,
      );
    const target = path.join(this.dir, name);
    fs.rmSync(target, { recursive: true, force: true });
    const stored: string[] = [];
    let bytes = 0;
    for (const file of files) {
      const relative = path.relative(rootDirectory, file);
      if (relative.startsWith('..') || path.isAbsolute(relative))
        throw new Error(`${file} is not under the artifact's root directory ${rootDirectory}`);
      fs.mkdirSync(path.dirname(path.join(target, relative)), { recursive: true });
      fs.copyFileSync(file, path.join(target, relative));
      bytes += fs.statSync(file).size;
      stored.push(relative.split(path.sep).join('/'));
    }
    const info = { name, files: stored, bytes, job };
    this.artifacts.set(name, info);
    return info;
  }

  /**
   * Extracts the artifact into `destination`; the files it wrote. Only an artifact of a job that `job` needs
   * (directly or not) is there for certain: any other job may run at the same time on GitHub, so its artifacts
   * count as missing, with the reason said.
   */
  download(name: string, destination: string, job: string, needed: ReadonlySet<string>): string[] {
    const info = this.artifacts.get(name);
    if (info && !needed.has(info.job))
      throw new Error(
        `Unable to download artifact(s): Artifact not found for name: ${name}\n` +
          `(job ${info.job} uploads it, but job ${job} does not need ${info.job}: on GitHub the two run at the same time, so the artifact is not there when ${job} looks for it)`,
      );
    if (!info)
      throw new Error(
        `Unable to download artifact(s): Artifact not found for name: ${name}\n` +
          `Please ensure that your artifact is not expired and the artifact was uploaded using a compatible version of toolkit/upload-artifact.` +
          ` (artifacts of this run: ${this.names().join(', ') || 'none'})`,
      );
    return info.files.map((file) => {
      const to = path.join(destination, file);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(this.dir, name, file), to);
      return to;
    });
  }

  /** The names of the artifacts `needed` jobs uploaded (what a download without a name gets). */
  names(needed?: ReadonlySet<string>): string[] {
    return this.list()
      .filter((a) => !needed || needed.has(a.job))
      .map((a) => a.name);
  }

  list(): ArtifactInfo[] {
    return [...this.artifacts.values()];
  }
}
