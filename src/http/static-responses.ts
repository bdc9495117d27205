/** Fixed response bodies and reason phrases. */

/** The content type of every plain-text answer. */
export const TEXT_UTF8 = 'text/plain; charset=UTF-8';

/** SSC 3.x pixel: a 43-byte transparent GIF. */
export const PIXEL = Buffer.from('R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

export const ROBOTS_TXT = 'User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /';

export function crossDomainXml(domains: readonly string[], secure: boolean): string {
  const lines = domains.map((d) => `<allow-access-from domain="${d}" secure="${secure}" />`);
  return ['<?xml version="1.0"?>', '<cross-domain-policy>', ...lines, '</cross-domain-policy>'].join('\n');
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 410: 'Gone', 413: 'Payload Too Large', 414: 'URI Too Long',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** Status line text, e.g. `404 Not Found`. */
export function statusText(code: number): string {
  const reason = REASONS[code];
  return reason === undefined ? String(code) : `${code} ${reason}`;
}
