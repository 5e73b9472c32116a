/**
 * `npm run cluster -- start|stop|status|stop-node N|start-node N|kill-node N`
 * A thin CLI over platform/src/testing/rabbitmq-cluster.ts: three RabbitMQ nodes on this machine,
 * one cluster, without Docker (SPEC §9; recipe: notes/rabbitmq-cluster-local.md).
 */
import {
  clusterAmqpUrls,
  killNode,
  localClusterStatus,
  startLocalCluster,
  startNode,
  stopLocalCluster,
  stopNode,
  type LocalClusterStatus,
  type NodeNumber,
  type NodeReport,
  type NodeStatus,
} from '@shop/platform/testing';
import { ToolError } from '@shop/platform/tools';

const USAGE = `Usage: npm run cluster -- <command>

Commands:
  start          start nodes shopc1..3@localhost as one cluster (idempotent: completes a half-started one)
  stop           rabbitmqctl stop on every node, then remove the cluster's folder
  status         each node up or down, and the cluster's membership
  stop-node N    stop node N's RabbitMQ app (rabbitmqctl stop_app); its VM and data stay
  start-node N   start node N again (start_app, or a new VM after kill-node)
  kill-node N    kill -9 node N's Erlang VM

AMQP on 127.0.0.1:5681-5683, management UI on http://127.0.0.1:15681-15683 (guest/guest).
The state folder is $SHOP_CLUSTER_DIR or <tmpdir>/shop-cluster.`;

function nodeNumber(argument: string | undefined): NodeNumber {
  const number = Number(argument);
  if (number !== 1 && number !== 2 && number !== 3)
    throw new ToolError(`expected a node number 1, 2 or 3\n\n${USAGE}`, 2);
  return number;
}

function printReports(reports: NodeReport[]): void {
  for (const report of reports) console.log(`${report.name}: ${report.action}`);
}

function describeNode(node: NodeStatus): string {
  if (node.running) return `up     ${node.amqpUrl}  ${node.managementUrl}  pid ${node.pid ?? '?'}`;
  if (node.pid === undefined) return 'down   no process from this folder (killed, or never started)';
  const why = node.member ? 'RabbitMQ app stopped (or still booting)' : 'not a member of the cluster';
  return `down   ${why}; its Erlang VM runs (pid ${node.pid})`;
}

function describeMembership(status: LocalClusterStatus): string {
  if (status.members.length === 0) return 'Membership unknown: no node’s management API answers.';
  const names = status.members.map((name) => name.split('@')[0]);
  const listed = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const verb = names.length === 1 ? 'is alone in its cluster' : 'form one cluster';
  return `${listed} ${verb}; ${status.running.length} of ${status.members.length} running.`;
}

function printStatus(status: LocalClusterStatus): void {
  if (!status.exists) {
    console.log(`No local cluster: nothing at ${status.dir}. Start one with \`npm run cluster -- start\`.`);
    return;
  }
  console.log(`Local RabbitMQ cluster (state in ${status.dir}):`);
  for (const node of status.nodes) console.log(`  ${node.name}  ${describeNode(node)}`);
  console.log(describeMembership(status));
  console.log(`AMQP_URL=${clusterAmqpUrls().join(',')}`);
}

async function main(): Promise<void> {
  const [command, argument, extra] = process.argv.slice(2);
  if (command === '--help' || command === '-h' || command === 'help') return console.log(USAGE);
  if (!command) throw new ToolError(`a command is required\n\n${USAGE}`, 2);
  const takesNode = ['stop-node', 'start-node', 'kill-node'].includes(command);
  if (extra !== undefined || (!takesNode && argument !== undefined))
    throw new ToolError(`unexpected argument ${extra ?? argument}\n\n${USAGE}`, 2);
  const started = performance.now();
  const took = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  switch (command) {
    case 'start':
      printReports(await startLocalCluster());
      printStatus(await localClusterStatus());
      return console.log(`(${took()})`);
    case 'stop': {
      const reports = await stopLocalCluster();
      if (reports.length === 0) return console.log('No local cluster was running; nothing to stop.');
      printReports(reports);
      return console.log(`Cluster stopped and its folder removed (${took()}).`);
    }
    case 'status':
      return printStatus(await localClusterStatus());
    case 'stop-node':
      printReports([await stopNode(nodeNumber(argument))]);
      return console.log(`(${took()})`);
    case 'start-node':
      printReports([await startNode(nodeNumber(argument))]);
      return console.log(`(${took()})`);
    case 'kill-node':
      return printReports([await killNode(nodeNumber(argument))]);
    default:
      throw new ToolError(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ToolError) {
    console.error(`cluster: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(error);
  process.exit(1);
});
