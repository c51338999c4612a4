import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandPublisher, declareCommandTopology, type CommandPublisher } from '../../commands/index.ts';
import { createLogger } from '../../platform/index.ts';
import { createVhost } from '../helpers/commands.ts';
import { waitUntil } from '../helpers/system.ts';

/**
 * A broker whose queues were first declared in another mode (classic, by a development run) refuses the
 * production declaration (quorum). The API side must then say why it is not ready, not "not connected".
 */
describe('command topology declared with another queue type', () => {
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let publisher: CommandPublisher | undefined;

  beforeAll(async () => {
    vhost = await createVhost();
    const conn = await amqp.connect(vhost.url);
    await declareCommandTopology(await conn.createChannel(), { quorum: false });
    await conn.close();
  });

  afterAll(async () => {
    await publisher?.close();
    await vhost?.remove();
  });

  it('readiness names the refused queue and what to do, and a publish is refused without being sent', async () => {
    publisher = await createCommandPublisher({ url: vhost.url, log: createLogger('topology-test', 'silent'), quorum: true, timeoutMs: 1_000 });
    let reason = '';
    await waitUntil('the refusal is known', async () => {
      reason = await publisher!.check().then(() => '', (err: Error) => err.message);
      return /topology refused/.test(reason);
    }, 15_000);
    expect(reason).toMatch(/inequivalent arg 'x-queue-type' for queue 'commands\.dead'/);
    expect(reason).toMatch(/NODE_ENV=production declares quorum queues.*delete the queue/);
    expect(publisher.connected).toBe(false);
  });
});
