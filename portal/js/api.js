// The portal is a client of the same API: every call carries the user's own token and the API decides.
import { apiBase, session } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const s = session();
  const headers = { Accept: "application/json" };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiBase() + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The answer, or null when the resource is not there (404): "not yet" is a state the pages show. */
export async function apiOrNull(path) {
  try {
    return await api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** PUT a file to a signed blob link (no token: the link is the permission), as a block blob. */
export async function uploadToLink(url, file, contentType) {
  const response = await fetch(url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob", "Content-Type": contentType }, body: file });
  if (!response.ok) throw new Error(`upload: HTTP ${response.status}`);
}
