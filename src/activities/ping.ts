/** A trivial activity used by the hello workflow and the foundation tests. */
export function createPingActivities() {
  return {
    async ping(message: string): Promise<string> {
      return `pong: ${message}`;
    },
  };
}
