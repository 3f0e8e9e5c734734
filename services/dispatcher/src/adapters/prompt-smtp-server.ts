import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';

/**
 * smtp-server, greeting at once. smtp-server waits a fixed 100 ms before its 220 to catch
 * "early talkers" (spam software that speaks before the greeting, what Postfix's postscreen
 * tests on port 25). That costs every connection 100 ms and nothing for a submission port,
 * whose clients authenticate or come from trusted networks: a service that opens a
 * connection per message (as Postfix's `smtp-source`, and many application mailers do) was
 * held to 10 messages per second per session by the wait alone. Postfix's own submission
 * service greets at once too.
 *
 * `connect` is smtp-server's own (3.21), with `init()`'s delayed `connectionReady()` made
 * immediate; the limit on concurrent clients is checked as `init()` does. A client that
 * talks before the greeting is still refused by the connection ("You talk too soon"): the
 * greeting is only sent sooner.
 */
export class PromptSmtpServer extends SMTPServer {
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new SMTPConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (error: Error) => this._onError(error));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) =>
      this._onClientConnect(data),
    );
    connection._setListeners(() => {
      const { maxClients } = this.options;
      if (maxClients && this.connections.size > maxClients) {
        connection.send(
          421,
          `${connection.name} Too many connected clients, try again in a moment`,
          false,
        );
        return;
      }
      connection.connectionReady();
    });
  }
}
