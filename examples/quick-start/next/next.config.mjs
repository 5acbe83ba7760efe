export default {
  // forbidden(), which requireVisitor refuses with.
  experimental: { authInterrupts: true },
  // The redirect off a token keeps the rest of the query as it was sent.
  skipProxyUrlNormalize: true,
};
