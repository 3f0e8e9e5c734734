import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import pg from 'pg';
import { toStoreError } from './errors';
import { CHANNEL_PATTERN, type Unlisten } from './port';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

type Callback = (payload: string) => void;

/**
 * LISTEN needs a connection of its own that never goes back to the pool (a pooled one
 * would drop its subscriptions when released). One per store, shared by every channel;
 * when it dies it is re-created with backoff and re-subscribes. Notifications sent while
 * it is down are lost, which is why every user of `listen` also polls.
 */
export class PgListener {
  readonly #config: pg.ClientConfig;
  readonly #logger: Logger;
  readonly #channels = new Map<string, Set<Callback>>();
  #client: Promise<pg.Client> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelayMs = RECONNECT_MIN_MS;
  #closed = false;

  constructor(config: pg.ClientConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  async listen(channel: string, onNotify: Callback): Promise<Unlisten> {
    if (!CHANNEL_PATTERN.test(channel)) {
      throw new RelaisError('VALIDATION_FAILED', `invalid channel name "${channel}"`);
    }
    if (this.#closed) throw new RelaisError('STORE_UNAVAILABLE', 'store is closed');
    let callbacks = this.#channels.get(channel);
    if (!callbacks) {
      callbacks = new Set();
      this.#channels.set(channel, callbacks);
      try {
        const client = await this.#connection();
        await client.query(`LISTEN ${channel}`);
      } catch (error) {
        this.#channels.delete(channel);
        throw toStoreError(error, 'listen');
      }
    }
    callbacks.add(onNotify);
    return async () => {
      const current = this.#channels.get(channel);
      if (!current?.delete(onNotify) || current.size > 0) return;
      this.#channels.delete(channel);
      const client = await this.#client?.catch(() => undefined);
      await client?.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#channels.clear();
    const client = await this.#client?.catch(() => undefined);
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #connection(): Promise<pg.Client> {
    this.#client ??= this.#open();
    return this.#client;
  }

  async #open(): Promise<pg.Client> {
    const client = new pg.Client(this.#config);
    client.on('notification', (message) => {
      for (const callback of this.#channels.get(message.channel) ?? [])
        callback(message.payload ?? '');
    });
    client.on('error', (error) => {
      this.#logger.warn(
        { err: error, 'event.action': 'store.listen.lost' },
        'listening connection lost',
      );
      this.#client = undefined;
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    });
    try {
      await client.connect();
    } catch (error) {
      this.#client = undefined;
      throw error;
    }
    return client;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer || this.#channels.size === 0) return;
    const delayMs = this.#reconnectDelayMs;
    this.#reconnectDelayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#resubscribe();
    }, delayMs);
    this.#reconnectTimer.unref();
  }

  async #resubscribe(): Promise<void> {
    if (this.#closed) return;
    try {
      const client = await this.#connection();
      for (const channel of this.#channels.keys()) await client.query(`LISTEN ${channel}`);
      this.#reconnectDelayMs = RECONNECT_MIN_MS;
      this.#logger.info(
        { 'event.action': 'store.listen.restored' },
        'listening connection restored',
      );
    } catch (error) {
      this.#logger.warn(
        { err: error, 'event.action': 'store.listen.lost' },
        'listening connection still down',
      );
      this.#client = undefined;
      this.#scheduleReconnect();
    }
  }
}
