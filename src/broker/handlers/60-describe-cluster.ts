// DescribeCluster (key 60), versions 0–1 (KIP-700; v1 adds endpoint_type, KIP-919).
// Brokers are the registered, unfenced nodes with their address on the listener the request came
// in on. Every listener here is a broker endpoint: endpoint_type 2 (controller) is answered with
// MISMATCHED_ENDPOINT_TYPE, anything else unknown with UNSUPPORTED_ENDPOINT_TYPE (both are
// INVALID_REQUEST at v0, which has no such codes), as Kafka does.
// Not implemented: authorization (without an authorizer every cluster operation is allowed, so
// the authorized-operations bit field lists them all, as Kafka reports with no authorizer).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { createDescribeClusterResponse, type DescribeClusterBroker } from '../../protocol/generated/describe-cluster-response.ts';
import type { MetadataImage } from '../../controller/image.ts';

const ENDPOINT_BROKERS = 1;
const ENDPOINT_CONTROLLERS = 2;

// AclOperation codes Kafka supports on the CLUSTER resource: CREATE(5), ALTER(7), DESCRIBE(8),
// CLUSTER_ACTION(9), DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11), IDEMPOTENT_WRITE(12).
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);
/** The schema default: "not requested". */
const OPERATIONS_NOT_REQUESTED = -2147483648;

/** Unfenced brokers with their endpoint on `listener` (or their first endpoint), by id. */
export function aliveBrokers(image: MetadataImage, listener: string): DescribeClusterBroker[] {
  const out: DescribeClusterBroker[] = [];
  for (const b of image.brokers.values()) {
    if (b.fenced) continue;
    const ep = b.endpoints.find((e) => e.name === listener) ?? b.endpoints[0];
    if (ep === undefined) continue;
    out.push({ brokerId: b.id, host: ep.host, port: ep.port, rack: b.rack });
  }
  return out.sort((a, b) => a.brokerId - b.brokerId);
}

export default defineHandler(60, 0, 1, (req, ctx) => {
  const v = ctx.apiVersion;
  if (req.endpointType !== ENDPOINT_BROKERS) {
    const unknown = req.endpointType !== ENDPOINT_CONTROLLERS;
    return createDescribeClusterResponse({
      errorCode: v === 0 ? ErrorCode.INVALID_REQUEST : unknown ? ErrorCode.UNSUPPORTED_ENDPOINT_TYPE : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage: unknown
        ? `Unsupported endpoint type ${req.endpointType}`
        : 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
    });
  }
  const image = ctx.broker.image;
  const brokers = aliveBrokers(image, ctx.connection.listener);
  // KRaft brokers name a live broker as the "controller" so admin requests come to a broker
  // (KIP-590 forwarding); an id missing from the broker list is reported as -1.
  const wanted = ctx.broker.controllerId();
  const controllerId = brokers.some((b) => b.brokerId === wanted) ? wanted : -1;
  return createDescribeClusterResponse({
    endpointType: ENDPOINT_BROKERS,
    clusterId: image.clusterId,
    controllerId,
    brokers,
    clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : OPERATIONS_NOT_REQUESTED,
  });
});
