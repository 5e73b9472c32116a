/**
 * `npm run tail -- <exchange> [routing-key] [--json] [--url AMQP_URL]`
 * Prints every message flowing through an exchange until Ctrl-C (a thin CLI over
 * platform/src/tools/tail.ts; default routing key '#').
 */
import { formatTailLine, redactUrl, tailExchange, ToolError } from '@shop/platform/tools';

const USAGE = `Usage: npm run tail -- <exchange> [routing-key] [--json] [--url URL]

  <exchange>      e.g. orders or inventory
  [routing-key]   binding pattern, default '#' (everything), e.g. 'order.*'
  --json          print each envelope as pretty JSON under its summary line
  --url URL       broker URL (default: $AMQP_URL or amqp://guest:guest@127.0.0.1:5672)`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  let json = false;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      return;
    } else if (flag === '--json') json = true;
    else if (flag === '--url') {
      const value = inline ?? argv[++i];
      if (!value) throw new ToolError('--url needs a value', 2);
      url = value;
    } else if (flag.startsWith('--')) throw new ToolError(`unknown option ${flag}\n\n${USAGE}`, 2);
    else positional.push(argv[i]);
  }
  const [exchange, routingKey = '#'] = positional;
  if (!exchange || positional.length > 2)
    throw new ToolError(`expected <exchange> [routing-key]\n\n${USAGE}`, 2);

  const tail = await tailExchange(url, exchange, {
    routingKey,
    onMessage: (message) => {
      console.log(formatTailLine(message));
      if (json) console.log(JSON.stringify(message.body, null, 2));
    },
  });
  console.error(`tailing ${exchange} (${routingKey}) on ${redactUrl(url)} via ${tail.queue}; Ctrl-C to stop`);
  const stop = () => void tail.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const error = await tail.ended;
  if (error) throw new ToolError(`lost the broker connection: ${error.message}`);
}

main().catch((error: unknown) => {
  if (error instanceof ToolError) {
    console.error(`tail: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(error);
  process.exit(1);
});
