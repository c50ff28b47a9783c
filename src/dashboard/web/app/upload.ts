// Uploads with progress: fetch cannot report upload progress, XMLHttpRequest can.
import { toApiError } from "../api/errors.js";

/** PUT `body` to `url` with `headers`, calling `onProgress` with the fraction sent; rejects with `service`'s error. */
export function putWithProgress(
  url: string,
  headers: Record<string, string>,
  body: Blob,
  onProgress: (f: number) => void,
  service = "image",
): Promise<void> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    x.onerror = () => reject(new Error("The upload failed (network error)."));
    x.onload = () => {
      if (x.status >= 200 && x.status < 300) {
        onProgress(1);
        resolve();
      } else void toApiError({ status: x.status, text: async () => x.responseText }, service).then(reject);
    };
    x.send(body);
  });
}
