/**
 * A FIFO over an array with a moving head: `shift()` on a large array is O(n), which turns
 * a deep queue into a quadratic drain. Consumed slots are released and the array is
 * compacted once the dead prefix outweighs the live part.
 */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items currently queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends at the tail. */
  push(item: T): void {
    this.items.push(item);
  }

  /** The item at the head, without removing it. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the head. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, head first. */
  drainAll(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}
