/**
 * Which `Host` and `Origin` headers the panel answers. A page on another site
 * can make a browser send requests here (DNS rebinding turns its own name into
 * 127.0.0.1); it cannot make the browser send this panel's own Host or Origin.
 */
export class HostGuard {
  readonly #hosts: ReadonlySet<string>;
  readonly #scheme: 'http' | 'https';

  /**
   * @param port the port the panel listens on
   * @param extra `allowedHosts` from the options: `name` (at this port) or `name:port`
   */
  constructor(port: number, extra: readonly string[], scheme: 'http' | 'https') {
    const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    for (const entry of extra) hosts.add(/:\d+$/.test(entry) ? entry.toLowerCase() : `${entry.toLowerCase()}:${port}`);
    this.#hosts = hosts;
    this.#scheme = scheme;
  }

  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.#hosts.has(host.toLowerCase());
  }

  /** An absent Origin passes (same-origin GETs, scripts); a present one must be this panel. */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    const prefix = `${this.#scheme}://`;
    return origin.toLowerCase().startsWith(prefix) && this.#hosts.has(origin.slice(prefix.length).toLowerCase());
  }
}
