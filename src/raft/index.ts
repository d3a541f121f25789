// The Raft consensus core of the metadata quorum (KRaft). See docs/design/raft.md.

export { RaftNode, EMPTY_PERSISTED_STATE } from './raft-node.ts';
export type { RaftNodeOptions, ProposeResult } from './raft-node.ts';
export type { QuorumDescription, ReplicaDescription } from './leader.ts';
export { NO_LEADER, isRequest } from './messages.ts';
export type * from './messages.ts';
export { DEFAULT_RAFT_CONFIG } from './types.ts';
export type * from './types.ts';
