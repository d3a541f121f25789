// Producer ids handed out by this broker, from blocks the controller allocates (KIP-730): a block's
// record is committed to the metadata log before any id of it is used, so ids never repeat, across
// restarts or brokers. The next block is fetched when 90% of the current one is used (as Kafka's
// RPCProducerIdManager does), so InitProducerId rarely waits for the controller.

export interface ProducerIdBlock {
  firstProducerId: bigint;
  size: number;
}

export class ProducerIdManager {
  readonly #allocate: () => Promise<ProducerIdBlock>;
  #next = 0n;
  #end = 0n;
  #prefetched: ProducerIdBlock | null = null;
  #fetching: Promise<void> | null = null;
  #blockSize = 1n;

  constructor(allocate: () => Promise<ProducerIdBlock>) {
    this.#allocate = allocate;
  }

  async next(): Promise<bigint> {
    while (this.#next >= this.#end) {
      if (this.#prefetched !== null) {
        this.#use(this.#prefetched);
        this.#prefetched = null;
        break;
      }
      await this.#fetch();
    }
    const id = this.#next++;
    const size = this.#end - this.#next;
    if (this.#prefetched === null && this.#fetching === null && size * 10n < this.#blockSize) void this.#fetch().catch(() => {});
    return id;
  }

  #use(b: ProducerIdBlock): void {
    this.#next = b.firstProducerId;
    this.#end = b.firstProducerId + BigInt(b.size);
    this.#blockSize = BigInt(b.size);
  }

  #fetch(): Promise<void> {
    this.#fetching ??= this.#allocate().then(
      (b) => {
        this.#fetching = null;
        if (this.#next >= this.#end) this.#use(b);
        else this.#prefetched = b;
      },
      (err: unknown) => {
        this.#fetching = null;
        throw err;
      },
    );
    return this.#fetching;
  }
}
