// A minimal Pages Router app protected by iron-session 8: the peer the bench compares Gatehouse with.
export default { reactStrictMode: true, poweredByHeader: false };
