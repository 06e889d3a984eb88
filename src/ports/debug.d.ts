/** The part of the `debug` library (simple-git's logger) the git port uses. */
declare module 'debug' {
  const debug: {
    /** Turns on the namespaces listed (`-name` turns one off). */
    enable(namespaces: string): void;
    /** Turns every namespace off; returns those that were on. */
    disable(): string;
  };
  export default debug;
}
