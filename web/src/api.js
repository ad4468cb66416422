// Talks to the JSON API (docs/API.md), or, in report mode, answers from the data embedded in the
// page (<script type="application/json" id="iotad-report-data">, keyed by endpoint path).

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let reportData;
export function reportMode() {
  if (reportData === undefined) {
    const node = document.getElementById('iotad-report-data');
    reportData = node ? JSON.parse(node.textContent) : null;
  }
  return reportData !== null;
}

/** GET path?params -> parsed JSON; throws HttpError with the API's error sentence. */
export async function getJson(path, params) {
  if (reportMode()) {
    if (!(path in reportData)) throw new HttpError(404, `the report holds no answer for ${path}`);
    return reportData[path];
  }
  const query = params ? params.toString() : '';
  const response = await fetch(query ? `${path}?${query}` : path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  return decode(response);
}

export async function postJson(path, body, writeToken) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${writeToken}` },
    body: JSON.stringify(body),
  });
  return decode(response);
}

async function decode(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    throw new HttpError(response.status, message);
  }
  return body;
}
