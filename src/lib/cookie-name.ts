/** RFC 6265's cookie-name token: letters, digits and !#$%&'*+-.^_`|~. */
const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** True for a string a browser accepts as a cookie name. The config and the cookie driver both check names with it. */
export function isCookieName(value: unknown): value is string {
  return typeof value === 'string' && COOKIE_TOKEN.test(value)
}
