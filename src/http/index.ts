// The HTTP client and its failure rules; see client.ts.
export { DEFAULT_HTTP_RETRY, HttpClient, type HttpClientOptions, type HttpRequest } from './client.ts';
export * from './failure.ts';
