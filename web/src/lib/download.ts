/** How long the object URL outlives the click: revoking it at once can cancel the download in some browsers. */
export const REVOKE_DELAY_MS = 1000;

/**
 * Saves a blob under a file name through a temporary object URL and anchor. The anchor is attached to the
 * document for the click because Firefox ignores clicks on detached anchors.
 */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_DELAY_MS);
}
