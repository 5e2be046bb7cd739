// A minimal Pages Router app protected by next-auth 4 (JWT sessions, `getServerSession`): a bench peer.
export default { reactStrictMode: true, poweredByHeader: false };
