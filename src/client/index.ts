// Brook's Kafka client: what the CLI, the benchmark tool and tests import.
export { Client, CoordinatorType, type ClientOptions } from './client.ts';
export { Producer, type ProducerOptions, type ProducerRecord, type RecordMetadata, type DeliveryCallback, type CompressionName, COMPRESSION_BY_NAME } from './producer.ts';
export { Consumer, type ConsumerOptions, type ConsumerRecord, type OffsetSpec, type TopicPartition } from './consumer.ts';
export { GroupConsumer, type GroupConsumerOptions } from './group/group-consumer.ts';
export { Admin, type NewTopic, type CreatedTopic, type ItemResult, type ClusterDescription, type DeletedRecords, type LogDirDescription } from './admin.ts';
export type { ConfigEntry, ConfigResource, ConfigResourceResult, ConfigChange } from './admin-configs.ts';
export type { GroupDescription, GroupListing, GroupMember, CommittedOffset, OffsetToCommit } from './admin-groups.ts';
export type {
  ActiveProducer, PartitionProducers, TransactionDescription, TransactionListing, TransactionFilter, QuorumDescription, QuorumReplica,
  ConsumerGroupDescription, ConsumerGroupMemberDescription, AssignedPartitions,
} from './admin-txn.ts';
export type { ClusterMetadata, TopicInfo, PartitionInfo, BrokerInfo } from './metadata.ts';
export { EARLIEST, LATEST, MAX_TIMESTAMP, tpKey, type OffsetQuery, type OffsetAnswer } from './list-offsets.ts';
export { murmur2, toPositive, partitionForKey, StickyPartitioner } from './partitioner.ts';
export { rangeAssignor, cooperativeStickyAssignor, ASSIGNORS, type Assignor } from './group/assignors.ts';
export { parseBrokerList, parseBrokerAddress, formatAddress, AddressError, type BrokerAddress } from './addresses.ts';
export {
  BrokerUnreachableError, BufferFullError, ClientClosedError, KafkaError, NetworkError, RequestTimeoutError,
  UnknownPartitionError, UnknownTopicError, UnsupportedApiError,
} from './errors.ts';
