// The HTTP client and its failure rules; see client.ts.
export { DEFAULT_HTTP_RETRY, HttpClient, type HttpClientOptions, type HttpRequest } from './client.ts';
export {
  answerMessage,
  HttpError,
  isTransientStatus,
  plainText,
  repeatVerdict,
  tooManyRequests,
  type HttpAnswer,
  type HttpFailure,
  type RepeatVerdict,
} from './failure.ts';
