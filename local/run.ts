// `npm run local`: starts the local stack (local/stack.ts), prints what to paste for the CLI and for
// `serverless invoke local`, tells what each sink receives as it arrives, and after a few minutes
// times out the running restore (the next poll alerts it). Runs until Ctrl-C.
// `npm run local -- --dynalite` uses dynalite instead of DynamoDB Local (no Java; no TTL).
import { oneLine } from '../lib/errors';
import { localStackInstructions, startLocalStack, type LocalDynamoChoice } from './stack';
import type { Sink, SinkRequest } from './sinks';

const SCRIPTED_TIMEOUT_MS = 3 * 60_000;

async function run(): Promise<void> {
  // The AWS SDK warns that its 2027 releases need Node 22; the tools here run on Node 20 on purpose.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dynamo: LocalDynamoChoice = process.argv.includes('--dynalite') ? 'dynalite' : 'dynamodb-local';
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say(`Starting the local stack (${dynamo === 'dynalite' ? 'dynalite' : 'DynamoDB Local, Java 17+'})…`);
  const stack = await startLocalStack({ dynamo }).catch((err: unknown) => {
    const hint = dynamo === 'dynamodb-local' ? ' (without Java: npm run local -- --dynalite)' : '';
    throw new Error(`${oneLine(err)}${hint}`);
  });
  say(localStackInstructions(stack));
  say('\nReady. Ctrl-C stops everything.');

  const watch = (name: string, sink: Sink, describe: (r: SinkRequest) => string): NodeJS.Timeout => {
    let seen = 0;
    return setInterval(() => {
      for (const request of sink.received.slice(seen)) {
        say(`${new Date().toISOString()} ${name} received: ${describe(request).slice(0, 160)}`);
      }
      seen = sink.received.length;
    }, 500);
  };
  const firstLine = (text: string): string => text.split('\n').find((l) => l.trim() !== '') ?? '';
  const timers = [
    watch('slack', stack.slack, (r) => firstLine(stack.slack.visibleText(r))),
    // Webhook events carry a type, and a summary (notices) or a task (alerts).
    watch('webhook', stack.webhook, (r) => {
      const event = r.json as { type?: string; summary?: string; task?: { host_name?: string } } | undefined;
      return [event?.type, event?.summary ?? event?.task?.host_name].filter(Boolean).join(': ');
    }),
  ];
  const scripted = setTimeout(() => {
    const task = stack.hss.tasks.find((t) => t.status === 'running');
    if (task === undefined) return;
    Object.assign(task, {
      status: 'timeout',
      ended_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      error_info: { code: 'HSS.5030', message: 'Restore task timed out after 3600 s' },
    });
    say(
      `${new Date().toISOString()} HSS: the restore on ${task.host_name} timed out (the next poll alerts it)`,
    );
  }, SCRIPTED_TIMEOUT_MS);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    say('\nStopping…');
    for (const t of timers) clearInterval(t);
    clearTimeout(scripted);
    stack.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`local stack: ${oneLine(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

run().catch((err: unknown) => {
  process.stderr.write(`npm run local: ${oneLine(err)}\n`);
  process.exit(1);
});
