/**
 * `next/navigation` and `next/headers` by the names Next's bundler knows. Next has no exports map, so
 * NodeNext resolution finds only `next/navigation.js`; but the bundler resolves the bare names per layer
 * (a Route Handler gets the react-server `next/navigation`, while `next/navigation.js` pulls in client
 * contexts that layer lacks and fails the build). The App Router helpers only ever run inside that bundler.
 */
declare module "next/navigation" {
  export * from "next/navigation.js";
}
declare module "next/headers" {
  export * from "next/headers.js";
}
