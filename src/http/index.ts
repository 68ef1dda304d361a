// src/http/ holds the one HTTP client Databricks, Render and GitHub go through (client.ts: timeouts, retries with
// backoff, Retry-After and Ratelimit-Reset) and the rules for which failures are repeated (failure.ts).
export { DEFAULT_HTTP_RETRY, HttpClient, type HttpClientOptions, type HttpRequest } from './client.ts';
export * from './failure.ts';
