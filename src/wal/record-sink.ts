/** Where records go after the front end built them, and how it says they are durable. */

/** Something waiting for its records to be durable (one HTTP request). */
export interface CommitWaiter {
  /** Called once: null when every record appended before the commit is durable. */
  onCommitted(err: Error | null): void;
}

export interface RecordSink {
  /** Short name, part of the collector string `sluice-<version>-<name>`. */
  readonly name: string;
  /**
   * Queues records and the waiter that answers once they are durable. Returns false, queuing
   * nothing, when the sink cannot take them now (a bound is reached): the caller answers 503.
   */
  submit(good: readonly Buffer[], bad: readonly Buffer[], waiter: CommitWaiter): boolean;
  /** True while the sink accepts records (for /sink-health). */
  healthy(): boolean;
  /** Null while records are accepted, else why not (for /health). */
  refusal(): string | null;
  /** Commits what is queued and stops; resolves when everything submitted has been answered. */
  close(): Promise<void>;
}
