// BrokerRegistration (62) and BrokerHeartbeat (63) on the controller listener (KIP-631): brokers
// register with and heartbeat to the active controller (src/controller/broker-heartbeats.ts).
// A node that is not the active controller answers NOT_CONTROLLER; the broker looks for the
// leader again. Not implemented: KIP-858 offline log directories (v1 field ignored), ZK migration.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';

export const BROKER_HANDLERS = [
  defineHandler(62, 0, 4, async (req, ctx) => {
    const hb = ctx.broker.cluster.heartbeats;
    if (hb === null || !ctx.broker.controller.isActive) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n };
    const r = await hb.register({
      brokerId: req.brokerId,
      clusterId: req.clusterId,
      incarnationId: req.incarnationId,
      listeners: req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })),
      rack: req.rack,
      features: req.features.map((f) => ({ ...f })),
      logDirs: req.logDirs.slice(),
    }, false);
    return { throttleTimeMs: 0, errorCode: r.errorCode, brokerEpoch: r.brokerEpoch };
  }),
  defineHandler(63, 0, 1, async (req, ctx) => {
    const hb = ctx.broker.cluster.heartbeats;
    if (hb === null) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, isCaughtUp: false, isFenced: true, shouldShutDown: false };
    const r = await hb.heartbeat({
      brokerId: req.brokerId,
      brokerEpoch: req.brokerEpoch,
      currentMetadataOffset: Number(req.currentMetadataOffset),
      wantFence: req.wantFence,
      wantShutDown: req.wantShutDown,
    });
    return { throttleTimeMs: 0, ...r };
  }),
];
