import type { Options } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';

/**
 * rate-limit-redis loads its Lua scripts once, in `init`, and keeps the promise of each script's
 * SHA: when Redis is away at that moment (a gateway started before Redis), every later count fails
 * on that rejected promise, even after Redis is back. This store loads the scripts on first use
 * instead, and again after any failure, so counting in Redis resumes as soon as Redis answers.
 */
export class RedisCountStore extends RedisStore {
  #scripts: Promise<unknown> | undefined;

  override async init(options: Options): Promise<void> {
    this.windowMs = options.windowMs;
  }

  override async increment(key: string) {
    try {
      await this.#loadScripts();
      return await super.increment(key);
    } catch (error) {
      this.#scripts = undefined;
      throw error;
    }
  }

  #loadScripts(): Promise<unknown> {
    this.#scripts ??= Promise.all([
      (this.incrementScriptSha = this.loadIncrementScript()),
      (this.getScriptSha = this.loadGetScript()),
    ]);
    return this.#scripts;
  }
}
