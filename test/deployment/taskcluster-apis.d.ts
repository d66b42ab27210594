// taskcluster-client's API references (every service's routes and method names), read by the
// recording forwarder to name the calls it sees.
declare module 'taskcluster-client/src/apis.js' {
  const apis: Record<string, unknown>
  export default apis
}
