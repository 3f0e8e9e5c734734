/**
 * AMQP topic matching: keys and patterns are dot-separated words; `*` matches exactly one
 * word and `#` zero or more. Words may be empty (`a..b` has three), as in RabbitMQ.
 */

/** A compiled binding pattern: tests a routing key. */
export type TopicMatcher = (routingKey: string) => boolean;

/** Compiles a topic binding pattern once, so routing a message does not re-parse it. */
export function compileTopicPattern(pattern: string): TopicMatcher {
  if (pattern === '#') return () => true;
  const words = pattern.split('.');
  if (!words.includes('#') && !words.includes('*')) return (key) => key === pattern;
  return (key) => matchWords(words, key.split('.'));
}

/** Whether `routingKey` matches the topic `pattern`. */
export function matchesTopic(pattern: string, routingKey: string): boolean {
  return compileTopicPattern(pattern)(routingKey);
}

/**
 * Iterative matching with backtracking to the last `#`: linear for the patterns relais
 * uses, and never exponential, since only the most recent `#` is ever re-tried
 * (the classic wildcard-matching argument applies because `#` absorbs whole words).
 */
function matchWords(pattern: readonly string[], key: readonly string[]): boolean {
  let p = 0;
  let k = 0;
  let starP = -1;
  let starK = 0;
  while (k < key.length) {
    const word = pattern[p];
    if (word === '#') {
      starP = p;
      starK = k;
      p += 1;
    } else if (word !== undefined && (word === '*' || word === key[k])) {
      p += 1;
      k += 1;
    } else if (starP >= 0) {
      p = starP + 1;
      starK += 1;
      k = starK;
    } else {
      return false;
    }
  }
  while (pattern[p] === '#') p += 1;
  return p === pattern.length;
}
