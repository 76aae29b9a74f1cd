/**
 * The bundled `media` plugin: decides with ffprobe whether a file is an
 * allowed image or video, on the sender before sealing and again on the
 * receiver before display (never trust the sender).
 *
 * Taps `beforeStart` (find ffprobe, fail fast, read the cache of checks),
 * `validate` and `status`. Checks are remembered by content and rules
 * (validation-cache.ts), so a restart does not probe a large library again.
 * A rejection is thrown as NVID_ERR_MEDIA_REJECTED; the core records it in the
 * history as `rejected`. An acceptance is recorded here as `validated`.
 */
import { join } from 'node:path';
import type { NvidPlugin, PluginHost } from '../../core/plugin-api.js';
import type { MediaInfo, ValidateRequest } from '../../core/types.js';
import { resolveBinary, type ResolvedBinary } from '../../core/media-tools/binaries.js';
import { MEDIA_ERROR_CODES } from './errors.js';
import { MEDIA_OPTIONS_SCHEMA, type MediaOptions } from './options.js';
import { validateMediaFile } from './validate-file.js';
import { checkWithCache, rulesDigest, VALIDATION_CACHE_FILE, ValidationCache } from './validation-cache.js';

export const PLUGIN_NAME = 'media';

export type { MediaOptions } from './options.js';

export default class MediaPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  static readonly schema = MEDIA_OPTIONS_SCHEMA;
  static readonly apiVersion = 2;
  static readonly errorCodes = MEDIA_ERROR_CODES;

  private readonly options: MediaOptions;
  private ffprobe: ResolvedBinary | undefined;
  private cache: ValidationCache | undefined;
  private rules: string | undefined;

  /** @param options already validated against `schema`, defaults filled in */
  constructor(options: MediaOptions) {
    this.options = options;
  }

  apply(daemon: PluginHost): void {
    // The coordinator never handles media.
    if (daemon.role !== 'node') return;
    const findProbe = async (): Promise<string> => {
      this.ffprobe ??= await resolveBinary('ffprobe', this.options.ffprobe, `${PLUGIN_NAME}.options.ffprobe`, daemon.configDir);
      return this.ffprobe.path;
    };

    daemon.hooks.beforeStart.tapPromise(PLUGIN_NAME, async () => {
      const path = await findProbe();
      daemon.log.debug({ ffprobe: path, source: this.ffprobe?.source }, 'ffprobe found');
      if (this.options.cache.enabled) {
        const cache = new ValidationCache(join(daemon.stateDir, VALIDATION_CACHE_FILE), this.options.cache);
        await cache.load();
        if (cache.skipped > 0) daemon.log.warn({ skipped: cache.skipped }, 'unreadable lines of the media cache skipped');
        this.rules = rulesDigest(this.options, path);
        this.cache = cache;
      }
    });

    daemon.hooks.validate.tapPromise(PLUGIN_NAME, async (request: ValidateRequest): Promise<MediaInfo> => {
      const ffprobe = await findProbe();
      const check = () => validateMediaFile(ffprobe, request.path, this.options, this.options.probeTimeoutMs);
      // A file from elsewhere is only ever matched by its content; a library file may be known by its inode.
      const info = this.cache && this.rules ? (await checkWithCache(this.cache, request.path, this.rules, request.side === 'local' ? 'local' : 'foreign', check)).media : await check();
      // A file already on this node (a library loop at start) was recorded when it arrived.
      if (request.side === 'local') return info;
      daemon.history.append('validated', {
        side: request.side,
        path: request.path,
        transferId: request.meta?.transferId,
        // Nested: a flat spread would overwrite the entry's own `kind` with the media kind.
        media: info,
      });
      return info;
    });

    daemon.hooks.status.tap(PLUGIN_NAME, (report) => {
      const cache = this.cache ? { entries: this.cache.size, hits: this.cache.hits, misses: this.cache.misses } : null;
      return { ...report, media: { ffprobe: this.ffprobe?.path ?? null, cache } };
    });

    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      await this.cache?.flush();
    });
  }
}
