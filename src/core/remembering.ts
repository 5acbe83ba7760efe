/**
 * `compute`, remembering its answers for recent inputs: the visit log asks the same questions
 * (which network, which browser) of the few addresses and user agents a site's visitors bring,
 * request after request. At most `max` answers are kept; past that, all are forgotten at once.
 */
export function remembering<T>(compute: (input: string) => T, max: number): (input: string) => T {
  const answers = new Map<string, T>();
  return (input) => {
    let answer = answers.get(input);
    if (answer === undefined) {
      answer = compute(input);
      if (answers.size >= max) answers.clear();
      answers.set(input, answer);
    }
    return answer;
  };
}
