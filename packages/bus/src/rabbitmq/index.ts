import { RabbitTransport, type RabbitTransportOptions } from './rabbit-transport';

export { RabbitTransport, type RabbitTransportOptions } from './rabbit-transport';
export { queueArguments } from './declare';

/** Connects the RabbitMQ adapter of the Transport port; rejects with BUS_UNAVAILABLE if the broker is unreachable. */
export function createRabbitTransport(options: RabbitTransportOptions): Promise<RabbitTransport> {
  return RabbitTransport.connect(options);
}
