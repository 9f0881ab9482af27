import type { ImageRecord } from '@impartial/shared/protocol';

/** What a dropped file's import reports to the page. */
export interface DropImportHooks {
  /** The project to import into (the shown image's, or the first); null when there is none. */
  project(): string | null;
  /** A line to show: the upload's percentage, then the bridge's import, or what went wrong. */
  progress(text: string): void;
  /** The bridge stored the image (it answers once the import is written). */
  imported(image: ImageRecord): void;
  /** The upload is in; the bridge is writing the pyramid (its /api/imports lists the rows done). */
  uploaded(): void;
}

/** The bridge's error message from a JSON error body, or the HTTP status. */
function failure(xhr: XMLHttpRequest): string {
  try {
    return (JSON.parse(xhr.responseText) as { error: { message: string } }).error.message;
  } catch {
    return `HTTP ${xhr.status}`;
  }
}

/** Sends one file to the bridge as an image of `project`, with upload progress (fetch reports none). */
function upload(file: File, project: string, token: string, hooks: DropImportHooks): Promise<void> {
  const name = file.name.replace(/\.(ome\.)?(tiff?|png)$/i, '') || 'dropped image';
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/projects/${encodeURIComponent(project)}/images?name=${encodeURIComponent(name)}`);
  if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  xhr.setRequestHeader('Content-Type', /\.png$/i.test(file.name) ? 'image/png' : 'image/tiff');
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) hooks.progress(`uploading ${file.name}: ${Math.floor((100 * e.loaded) / e.total)}%`);
  };
  xhr.upload.onload = () => {
    hooks.progress(`importing ${file.name}...`);
    hooks.uploaded();
  };
  return new Promise((resolve) => {
    xhr.onload = () => {
      if (xhr.status === 201) {
        const image = JSON.parse(xhr.responseText) as ImageRecord;
        hooks.progress(`imported ${image.name} (${image.width}x${image.height})`);
        hooks.imported(image);
      } else hooks.progress(`cannot import ${file.name}: ${failure(xhr)}`);
      resolve();
    };
    xhr.onerror = () => {
      hooks.progress(`cannot import ${file.name}: the bridge did not answer`);
      resolve();
    };
    xhr.send(file);
  });
}

/**
 * Files dropped anywhere on the page are imported into the bridge one after another (TIFF,
 * OME-TIFF, PNG); the page shows a frame while a file is dragged over it.
 */
export function enableDropImport(page: HTMLElement, token: string, hooks: DropImportHooks): void {
  const over = (on: boolean) => page.classList.toggle('dropping', on);
  page.addEventListener('dragover', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    over(true);
  });
  page.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) over(false);
  });
  page.addEventListener('drop', (e) => {
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length) return;
    e.preventDefault();
    over(false);
    const project = hooks.project();
    if (!project) {
      hooks.progress('no project to import into: make one with POST /api/projects');
      return;
    }
    void (async () => {
      for (const f of files) await upload(f, project, token, hooks);
    })();
  });
}
