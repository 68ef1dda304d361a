// The workspace API of the Databricks REST stand-in: folders (mkdirs), notebooks imported in SOURCE format, and
// get-status and export of what is there.
import { absolutePath, ApiError, requireString } from './api.ts';
import type { ServerState } from './state.ts';

const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

export function mkdirs(state: ServerState, path: string): void {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    const existing = state.workspace.get(prefix);
    if (existing?.object_type === 'NOTEBOOK')
      throw new ApiError(
        400,
        'RESOURCE_ALREADY_EXISTS',
        `Path (${prefix}) already exists and is not a directory.`,
      );
    if (!existing)
      state.workspace.set(prefix, { object_type: 'DIRECTORY', path: prefix, object_id: state.nextId() });
  }
}

export function importObject(state: ServerState, body: Record<string, unknown>): void {
  const path = requireString(body, 'path');
  absolutePath(path);
  if (body.format !== 'SOURCE')
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'This server imports only format SOURCE.');
  if (!['SQL', 'PYTHON', 'SCALA', 'R'].includes(String(body.language)))
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      'The language field is required to import a single file as SOURCE.',
    );
  const content = requireString(body, 'content');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content))
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Invalid base64 content.');
  const bytes = Buffer.from(content, 'base64');
  if (bytes.length > MAX_IMPORT_BYTES)
    throw new ApiError(400, 'MAX_NOTEBOOK_SIZE_EXCEEDED', 'The content exceeds 10 MB.');
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  if (state.workspace.get(parent)?.object_type !== 'DIRECTORY')
    throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${parent}) does not exist.`);
  const existing = state.workspace.get(path);
  if (existing && (existing.object_type === 'DIRECTORY' || body.overwrite !== true))
    throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `${path} already exists.`);
  state.workspace.set(path, {
    object_type: 'NOTEBOOK',
    path,
    object_id: existing?.object_id ?? state.nextId(),
    language: String(body.language),
    content: bytes.toString('utf8'),
  });
}
