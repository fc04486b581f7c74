import { type Job, RoamError } from '@roam/client';

/**
 * Submits a spec with its inputs archive as multipart/form-data, reporting upload progress.
 * The typed client builds this body with Node's Buffer and streams it with fetch, and browsers
 * neither have Buffer nor report fetch upload progress (nor stream request bodies over
 * HTTP/1.1), so this one call goes through XMLHttpRequest, with the same headers the client
 * sends: the key, and an Idempotency-Key so a retried submit never creates a second job.
 */
export function submitWithInputs(options: {
  apiKey: string;
  spec: unknown;
  inputs: File;
  onProgress(sent: number, total: number): void;
}): Promise<Job> {
  const form = new FormData();
  form.set('spec', JSON.stringify(options.spec));
  form.set('inputs', options.inputs, options.inputs.name);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/api/v1/jobs');
    request.setRequestHeader('authorization', `Bearer ${options.apiKey}`);
    request.setRequestHeader('idempotency-key', crypto.randomUUID());
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress(event.loaded, event.total);
    };
    request.onerror = () => reject(new Error('The upload failed: the connection was lost.'));
    request.onload = () => {
      const response = new Response(request.responseText, {
        status: request.status,
        statusText: request.statusText,
      });
      if (request.status >= 200 && request.status < 300)
        resolve(JSON.parse(request.responseText) as Job);
      else reject(RoamError.fromBody(response, request.responseText));
    };
    request.send(form);
  });
}
